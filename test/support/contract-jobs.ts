import type { Core } from '../../electron/services/composition-root';
import type { JobRecord } from '../../shared/domain/jobs';

/** Cheap KDFs for cores under test: the registry's handling is under test, not the work factor. */
export const cheapEncryption = { scryptParams: { log2N: 10, r: 8, p: 1 }, ageScryptLog2N: 10 } as const;

/** Starts a job through the contract (as the UI does) and resolves with its record once it has ended. */
export async function runContractJob(core: Core, channel: string, input: unknown, timeoutMs = 20_000): Promise<JobRecord> {
  const started = await core.router.dispatch(channel, input, { origin: 'test' });
  if (!started.ok) throw new Error(`${channel} refused: ${started.error.message}`);
  const { id } = started.result as JobRecord;
  const deadline = Date.now() + timeoutMs;
  while (['queued', 'running'].includes(core.jobs.get(id).status)) {
    if (Date.now() > deadline) throw new Error(`${channel} job ${id} did not end in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return core.jobs.get(id);
}
