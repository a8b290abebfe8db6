import { readdirSync } from 'node:fs';
import path from 'node:path';
import { startServe, type ServingHost } from '../../../support/cli-process';
import { makeTempDir } from '../../../support/temp-dir';

export const testAdminKey = 'test-admin-key-0123456789abcdef';

export interface RegistryTestHost {
  /** Origin of the real `torsh-depot serve` (e.g. `http://127.0.0.1:43121`). */
  origin: string;
  dataDir: string;
  serving: ServingHost;
  /** Files the registry left in its scratch folder (uploads in progress, leftovers). */
  scratchFiles(): string[];
  stop(): Promise<void>;
}

/** Starts the real registry host (the built bin) on a free port with a fresh data folder. */
export async function startRegistryHost(extraArgs: string[] = []): Promise<RegistryTestHost> {
  const data = makeTempDir('torsh-depot-registry-');
  const serving = await startServe(['--port', '0', '--data-dir', data.dir, ...extraArgs], { ...process.env, TORSH_DEPOT_ADMIN_KEY: testAdminKey });
  return {
    origin: new URL(serving.url).origin,
    dataDir: data.dir,
    serving,
    scratchFiles: () => readdirSync(path.join(data.dir, 'tmp')).filter((name) => !name.startsWith('staging')),
    async stop() {
      await serving.stop();
      data.cleanup();
    },
  };
}
