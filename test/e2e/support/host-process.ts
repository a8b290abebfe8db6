import { existsSync } from 'node:fs';
import path from 'node:path';
import { assertBuilt as assertCliBuilt, projectRoot, startServe, stopAllServing, type ServingHost } from '../../support/cli-process';

export { projectRoot };

/** A running `torsh-depot serve`, with the parts of its printed URL the e2e tests use. */
export interface HostProcess extends ServingHost {
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  readonly pid: number;
}

/** Fails with a clear message when the build the e2e tests run against is missing. */
export function assertBuilt(): void {
  assertCliBuilt();
  if (!existsSync(path.join(projectRoot, 'dist', 'renderer', 'index.html'))) throw new Error('dist/renderer/index.html missing: run `npm run build` before the e2e tests.');
}

/** Starts the host; port 0 (the default) picks a free port, a fixed one lets a test restart it in place. */
export async function startHost(options: { dataDir: string; port?: number }): Promise<HostProcess> {
  assertBuilt();
  const serving = await startServe(['--port', String(options.port ?? 0), '--data-dir', options.dataDir]);
  const url = new URL(serving.url);
  return { ...serving, origin: url.origin, port: Number(url.port), token: url.searchParams.get('token') ?? '', pid: serving.child.pid ?? -1 };
}

export const stopAllHosts = stopAllServing;
