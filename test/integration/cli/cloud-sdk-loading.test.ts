import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectRoot, runCliProcess } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';

// The AWS and Azure SDKs cost ~30 MiB of memory: only a process that uses a cloud store may load them.
const cloudSdk = /[\\/]node_modules[\\/]@(aws-sdk|azure)[\\/]/;
// The commands that move big files (pack, sign, verify, encrypt, decrypt, pull) load only their own
// modules: a whole `torsh-depot encrypt` process must not pay for SQLite, the host or the cloud SDKs.
const hostModules = /[\\/]node_modules[\\/](better-sqlite3|ws|yaml|croner|@aws-sdk|@azure)[\\/]/;
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
  ['--version', (): string[] => ['--version'], cloudSdk],
  // encrypt is a hot command: it loads neither SQLite, nor the host, nor a cloud SDK.
  ['encrypt', (): string[] => ['encrypt', path.join(work, 'plain.txt'), '-o', path.join(work, 'plain.enc'), '--passphrase-file', path.join(work, 'pass.txt')], hostModules],
])('torsh-depot %s loads no cloud SDK', async (_name, args, forbidden) => {
  const { env, loaded } = measuredEnv();
  const result = await runCliProcess(args(), env);
  expect(result.code, result.stderr).toBe(0);
  const modules = loaded();
  // The preload worked: the CLI's own bundle is listed.
  expect(modules.some((file) => file.endsWith(`dist${path.sep}cli.cjs`))).toBe(true);
  expect(modules.filter((file) => forbidden.test(file))).toEqual([]);
});

it('a command outside the hot list still loads the whole CLI (serve needs SQLite)', async () => {
  const { env, loaded } = measuredEnv();
  const result = await runCliProcess(['gc'], env);
  expect(loaded().some((file) => /[\\/]node_modules[\\/]better-sqlite3[\\/]/.test(file)), result.stderr).toBe(true);
});

it('a hot command answers a usage error with its usage and exit code 2, and --help as before', async () => {
  const bad = await runCliProcess(['sign', path.join(work, 'plain.txt')]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('torsh-depot sign: ');
  expect(bad.stderr).toContain('Usage: torsh-depot sign <file> --key');
  const help = await runCliProcess(['pull', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: torsh-depot pull');
  const failing = await runCliProcess(['decrypt', path.join(work, 'plain.txt'), '-o', path.join(work, 'out'), '--passphrase-file', path.join(work, 'pass.txt')]);
  expect(failing.code).toBe(1);
  expect(failing.stderr).toMatch(/^torsh-depot decrypt: \S/);
});
