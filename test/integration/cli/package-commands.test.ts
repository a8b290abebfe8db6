import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runCliProcess, startServe, type CliResult, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';

const adminKey = 'cli-admin-key-0123456789abcdef';
let host: ServingHost;
let registry: string;
let work: string;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  const data = makeTempDir();
  const scratch = makeTempDir();
  cleanups.push(data.cleanup, scratch.cleanup);
  work = scratch.dir;
  host = await startServe(['--port', '0', '--data-dir', data.dir], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  registry = new URL(host.url).origin;
});

afterAll(async () => {
  await host?.stop();
  for (const cleanup of cleanups.reverse()) cleanup();
});

/** The environment without any inherited registry settings, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  delete clean.TORSH_DEPOT_REGISTRY;
  delete clean.TORSH_DEPOT_API_KEY;
  return { ...clean, ...extra };
}

function cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  return runCliProcess(args, env(extra));
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A failure prints exactly one line on stderr, prefixed with the command. */
function expectOneLineError(result: CliResult, command: string, code: number): string {
  expect(result.code).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(new RegExp(`^torsh-depot ${command}: \\S`));
  if (code === 1) expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

function makeSourceFolder(name: string, extra = ''): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'models'), { recursive: true });
  writeFileSync(path.join(dir, 'models', 'weights.pt'), Buffer.alloc(50_000, 7));
  writeFileSync(path.join(dir, 'model.yaml'), `layers: 4\n${extra}`);
  writeFileSync(path.join(dir, 'README.md'), '# A test model\n');
  return dir;
}

describe('torsh-depot pack / inspect', () => {
  it('packs a folder and inspects the result (text and --json)', async () => {
    const source = makeSourceFolder('pack-src');
    const output = path.join(work, 'out', 'cli-pkg-1.0.0.torshpkg');
    const packed = await cli(['pack', source, '--name', 'cli-pkg', '--version', '1.0.0', '-o', output, '--description', 'packed by the CLI test']);
    expect(packed).toMatchObject({ code: 0, stderr: '' });
    expect(packed.stdout).toContain(`packed cli-pkg@1.0.0: ${output}`);
    expect(packed.stdout).toContain(`sha256:${sha256(output)}`);

    const text = await cli(['inspect', output]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(/^cli-pkg 1\.0\.0\n/);
    expect(text.stdout).toContain('packed by the CLI test');
    expect(text.stdout).toContain('models/weights.pt');

    const json = await cli(['inspect', output, '--json']);
    expect(json.code).toBe(0);
    const inspection = JSON.parse(json.stdout) as { manifest: { name: string; version: string }; resources: Array<{ path: string }> };
    expect(inspection.manifest).toMatchObject({ name: 'cli-pkg', version: '1.0.0' });
    expect(inspection.resources.map((resource) => resource.path).sort()).toEqual(['config/model.yaml', 'docs/README.md', 'models/weights.pt']);
  });

  it('bad usage exits 2 with the error on the first stderr line; a bad package exits 1 with one line', async () => {
    const source = makeSourceFolder('pack-usage');
    expectOneLineError(await cli(['pack', source, '--version', '1.0.0', '-o', path.join(work, 'x.torshpkg')]), 'pack', 2);
    expectOneLineError(await cli(['pack', source, '--name', 'x', '--version', '1.0.0', '-o', path.join(work, 'x.torshpkg'), '--bogus']), 'pack', 2);
    expectOneLineError(await cli(['inspect']), 'inspect', 2);
    const invalidVersion = expectOneLineError(await cli(['pack', source, '--name', 'x', '--version', 'v1', '-o', path.join(work, 'x.torshpkg')]), 'pack', 1);
    expect(invalidVersion).toContain('semver');

    const garbage = path.join(work, 'garbage.torshpkg');
    writeFileSync(garbage, 'not a zip\nsecond line');
    expectOneLineError(await cli(['inspect', garbage]), 'inspect', 1);
    expectOneLineError(await cli(['inspect', path.join(work, 'does-not-exist.torshpkg')]), 'inspect', 1);
  });
});

describe('torsh-depot publish / pull / search against the real registry', () => {
  let v1: string;
  let v11: string;
  beforeAll(async () => {
    v1 = path.join(work, 'remote-1.0.0.torshpkg');
    v11 = path.join(work, 'remote-1.1.0.torshpkg');
    expect((await cli(['pack', makeSourceFolder('remote-src-1'), '--name', 'vision/remote', '--version', '1.0.0', '-o', v1])).code).toBe(0);
    expect((await cli(['pack', makeSourceFolder('remote-src-11', 'v: 11\n'), '--name', 'vision/remote', '--version', '1.1.0', '-o', v11, '--description', 'A remote sensing model'])).code).toBe(0);
  });

  it('publish needs a registry (exit 2) and a valid key (exit 1, one line)', async () => {
    expectOneLineError(await cli(['publish', v1]), 'publish', 2);
    expectOneLineError(await cli(['publish', v1, '--registry', 'ftp://nowhere']), 'publish', 2);
    const noKey = expectOneLineError(await cli(['publish', v1, '--registry', registry]), 'publish', 1);
    expect(noKey.toLowerCase()).toContain('key');
    expectOneLineError(await cli(['publish', v1, '--registry', registry, '--api-key', 'wrong-key-wrong-key-0000']), 'publish', 1);
  });

  it('publishes (key from --api-key or TORSH_DEPOT_API_KEY), re-publishing the same bytes is a no-op', async () => {
    const first = await cli(['publish', v1, '--registry', registry], { TORSH_DEPOT_API_KEY: adminKey });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(`published vision/remote@1.0.0 to ${registry}`);
    expect(first.stdout).toContain(`sha256:${sha256(v1)}`);

    const again = await cli(['publish', v1, '--registry', registry, '--api-key', adminKey]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already published');

    const second = await cli(['publish', v11, '--api-key', adminKey, '--tag', 'satellite', '--tag', 'remote-sensing'], { TORSH_DEPOT_REGISTRY: registry });
    expect(second.code).toBe(0);
  });

  it('pulls a range into a folder and an exact version to a file, bytes and digest intact', async () => {
    const folder = path.join(work, 'pulled');
    mkdirSync(folder, { recursive: true });
    // New packages are internal by default: anonymous pulls are refused, a key's holder pulls.
    const anonymous = expectOneLineError(await cli(['pull', 'vision/remote@^1', '--registry', registry, '-o', folder]), 'pull', 1);
    expect(anonymous.toLowerCase()).toContain('key');
    const range = await cli(['pull', 'vision/remote@^1', '--registry', registry, '-o', folder], { TORSH_DEPOT_API_KEY: adminKey });
    expect(range).toMatchObject({ code: 0, stderr: '' });
    const rangeFile = path.join(folder, 'vision__remote-1.1.0.torshpkg');
    expect(range.stdout).toContain(`pulled vision/remote@1.1.0: ${rangeFile}`);
    expect(sha256(rangeFile)).toBe(sha256(v11));

    const exactFile = path.join(folder, 'exact.torshpkg');
    const exact = await cli(['pull', 'vision/remote@1.0.0', '--registry', registry, '--output', exactFile, '--api-key', adminKey]);
    expect(exact.code).toBe(0);
    expect(readFileSync(exactFile).equals(readFileSync(v1))).toBe(true);
    expect(readdirSync(folder).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('pull failures: unknown version exits 1 with one line, a bad spec exits 2, an unreachable registry exits 1', async () => {
    const out = path.join(work, 'never.torshpkg');
    const missing = expectOneLineError(await cli(['pull', 'vision/remote@^7', '--registry', registry, '-o', out], { TORSH_DEPOT_API_KEY: adminKey }), 'pull', 1);
    expect(missing).toContain('vision/remote');
    expect(existsSync(out)).toBe(false);
    expectOneLineError(await cli(['pull', 'Bad Name@1.0.0', '--registry', registry]), 'pull', 2);
    expectOneLineError(await cli(['pull', 'vision/remote@not-a-range!', '--registry', registry]), 'pull', 2);

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = expectOneLineError(await cli(['pull', 'vision/remote@1.0.0', '--registry', `http://127.0.0.1:${port}`, '-o', out]), 'pull', 1);
    expect(unreachable).toContain('Cannot reach the registry');
  });

  it('searches (text and --json); anonymous searches see only public packages', async () => {
    const anonymous = JSON.parse((await cli(['search', 'remote', '--registry', registry, '--json'])).stdout) as { total: number };
    expect(anonymous.total).toBe(0);
    const json = await cli(['search', 'remote', '--registry', registry, '--json'], { TORSH_DEPOT_API_KEY: adminKey });
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { total: number; packages: Array<{ name: string; version: string; tags: string[] }> };
    expect(result.packages).toContainEqual(expect.objectContaining({ name: 'vision/remote', version: '1.1.0', tags: ['satellite', 'remote-sensing'] }));

    const text = await cli(['search', 'satellite', '--registry', registry], { TORSH_DEPOT_API_KEY: adminKey });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain('vision/remote@1.1.0');
    expect(text.stdout).toContain('A remote sensing model');

    const none = await cli(['search', 'zzzqqqxxx', '--registry', registry]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no packages match');
    expectOneLineError(await cli(['search', 'x', '--registry', registry, '--per-page', '0']), 'search', 2);
  });
});
