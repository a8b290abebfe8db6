import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectRoot, runCliProcess } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';

// The AWS and Azure SDKs cost ~30 MiB of memory: only a process that uses a cloud store may load them.
const cloudSdk = /[\\/]node_modules[\\/]@(aws-sdk|azure)[\\/]/;
const preload = path.join(projectRoot, 'test', 'support', 'loaded-modules-preload.mjs');
let work: string;
let cleanup: () => void;
let runs = 0;

beforeAll(() => {
  ({ dir: work, cleanup } = makeTempDir());
  writeFileSync(path.join(work, 'plain.txt'), 'not a secret\n');
  writeFileSync(path.join(work, 'pass.txt'), 'sdk loading passphrase\n');
});
afterAll(() => cleanup());

function measuredEnv(): { env: NodeJS.ProcessEnv; loaded: () => string[] } {
  runs += 1;
  const file = path.join(work, `modules-${runs}.txt`);
  return {
    env: { ...process.env, NODE_OPTIONS: `--import ${preload}`, TORSH_DEPOT_LOADED_MODULES_FILE: file },
    loaded: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []),
  };
}

it('sees an SDK a process loads, by require() or by import()', () => {
  const { env, loaded } = measuredEnv();
  const script = "require('@aws-sdk/client-s3'); import('@azure/storage-blob').then(() => undefined);";
  const result = spawnSync(process.execPath, ['-e', script], { cwd: projectRoot, env, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  const modules = loaded();
  expect(modules.some((file) => /@aws-sdk[\\/]client-s3[\\/]/.test(file))).toBe(true);
  expect(modules.some((file) => /@azure[\\/]storage-blob[\\/]/.test(file))).toBe(true);
});

it.each([
  ['--version', (): string[] => ['--version']],
  ['encrypt', (): string[] => ['encrypt', path.join(work, 'plain.txt'), '-o', path.join(work, 'plain.enc'), '--passphrase-file', path.join(work, 'pass.txt')]],
])('torsh-depot %s loads no cloud SDK', async (_name, args) => {
  const { env, loaded } = measuredEnv();
  const result = await runCliProcess(args(), env);
  expect(result.code, result.stderr).toBe(0);
  const modules = loaded();
  // The preload worked: the CLI's own bundle is listed.
  expect(modules.some((file) => file.endsWith(`dist${path.sep}cli.cjs`))).toBe(true);
  expect(modules.filter((file) => cloudSdk.test(file))).toEqual([]);
});
