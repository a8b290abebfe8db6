import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryClient } from '../../../electron/services/registry-client/registry-client';
import { generateSigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import { digestFileForSigning, signDigests } from '../../../electron/services/signing/file-signature';
import { encodePublicKey } from '../../../electron/services/signing/minisign-format';
import { cliBin, runCliProcess, startServe, stopAllServing, type CliResult } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';

const adminKey = 'backup-admin-key-0123456789abcdef';
const alice = generateSigningKeyPair();
let work: { dir: string; cleanup: () => void };

function at(name: string): string {
  return path.join(work.dir, name);
}

function env(): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = { ...process.env, TORSH_DEPOT_BACKUP_PASSPHRASE: 'backup passphrase for tests' };
  delete clean.TORSH_DEPOT_REGISTRY;
  delete clean.TORSH_DEPOT_API_KEY;
  delete clean.TORSH_DEPOT_BACKUP_REPOSITORY;
  return clean;
}

function backup(args: string[]): Promise<CliResult> {
  return runCliProcess(['backup', ...args], env(), 120_000);
}

function json<T>(result: CliResult): T {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

beforeAll(() => {
  work = makeTempDir('torsh-backup-cli-');
});
afterAll(async () => {
  await stopAllServing();
  work?.cleanup();
});

describe('torsh-depot backup', () => {
  it('whole registry: back up a serving host, kill -9 it, delete its data folder, restore into a new folder and serve it: everything is back', async () => {
    const dataDir = at('data');
    writeFileSync(at('alice.pub'), encodePublicKey(alice));
    const serveArgs = (dir: string): string[] => ['--port', '0', '--data-dir', dir, '--default-visibility', 'public', '--trusted-key', at('alice.pub')];
    const host = await startServe(serveArgs(dataDir), { ...env(), TORSH_DEPOT_ADMIN_KEY: adminKey });
    const registry = new URL(host.url).origin;
    const v1 = await makeTestPackage(work.dir, { name: 'vision/resnet', version: '1.0.0', files: { 'models/weights.pt': 300_000, 'config/model.yaml': 'layers: 4\n' } });
    const v2 = await makeTestPackage(work.dir, { name: 'vision/resnet', version: '1.1.0', files: { 'models/weights.pt': 300_000, 'config/model.yaml': 'layers: 5\n' } });
    for (const file of [v1, v2]) expect((await runCliProcess(['publish', file, '--registry', registry, '--api-key', adminKey], env())).code).toBe(0);
    const admin = new RegistryClient({ baseUrl: registry, apiKey: adminKey, retries: 0 });
    const digests = await digestFileForSigning(v1);
    await admin.putSignature('vision/resnet', '1.0.0', signDigests(alice, digests, { name: 'vision/resnet', version: '1.0.0' }, 'v1'));
    const state = async (base: string): Promise<Record<string, unknown>> => {
      const client = new RegistryClient({ baseUrl: base, apiKey: adminKey, retries: 0 });
      const versions = await Promise.all(['1.0.0', '1.1.0'].map(async (version) => {
        const metadata = await client.getVersion('vision/resnet', version);
        const download = await fetch(`${base}/api/v1/packages/vision/resnet/${version}/download`, { headers: { Authorization: `Bearer ${adminKey}` } });
        return { metadata: { ...metadata, downloads: undefined }, sha256: sha256(Buffer.from(await download.arrayBuffer())) };
      }));
      const audit = (await (await fetch(`${base}/api/v1/audit?limit=1000`, { headers: { Authorization: `Bearer ${adminKey}` } })).json()) as { events: Array<Record<string, unknown>> };
      const listed = (await (await fetch(`${base}/api/v1/keys`, { headers: { Authorization: `Bearer ${adminKey}` } })).json()) as { keys?: Array<Record<string, unknown>> };
      // Using a key updates its last use, and these very requests use it.
      const keys = (listed.keys ?? []).map((key) => ({ ...key, last_used_at: undefined }));
      expect(keys.length).toBeGreaterThan(0);
      return { versions, audit: audit.events.filter((event) => !String(event.action).startsWith('package.download')), keys };
    };
    const before = await state(registry);
    expect((before.versions as Array<{ metadata: { signatures?: unknown[] } }>)[0]?.metadata.signatures).toHaveLength(1);

    const repo = pathToFileURL(at('repo')).href;
    json(await backup(['init', '--repo', repo, '--json']));
    const snapshot = json<{ id: string; source: { kind: string }; stats: { files: number } }>(await backup(['run', '--repo', repo, '--data-dir', dataDir, '--strategy', 'full', '--json']));
    expect(snapshot.source.kind).toBe('registry');
    expect(snapshot.stats.files).toBeGreaterThanOrEqual(3);

    host.child.kill('SIGKILL');
    await new Promise((resolve) => host.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });

    const fresh = at('restored-data');
    const restored = json<{ files: unknown[] }>(await backup(['restore', snapshot.id.slice(0, 10), '--repo', repo, '--target', fresh, '--json']));
    expect(restored.files.length).toBe(snapshot.stats.files);
    const again = await startServe(serveArgs(fresh), env());
    try {
      const after = await state(new URL(again.url).origin);
      expect(after).toEqual(before);
    } finally {
      await again.stop();
    }
  }, 240_000);

  it('kill -9 during a backup leaves no snapshot; the next run reuses the finished packs; verify and restore pass', async () => {
    const repoDir = at('killed-repo');
    const repo = pathToFileURL(repoDir).href;
    json(await backup(['init', '--repo', repo, '--compression', 'none', '--json']));
    const big = at('big.bin');
    writeFileSync(big, randomBytes(96 * 1024 * 1024));
    const child = spawn(process.execPath, [cliBin, 'backup', 'run', '--repo', repo, '--path', big], { env: env(), stdio: 'ignore' });
    const dataDir = path.join(repoDir, 'data');
    const indexDir = path.join(repoDir, 'index');
    const packCount = (): number => (existsSync(dataDir) ? readdirSync(dataDir).flatMap((sub) => readdirSync(path.join(dataDir, sub)).filter((name) => !name.startsWith('.'))).length : 0);
    const indexCount = (): number => (existsSync(indexDir) ? readdirSync(indexDir).filter((name) => !name.startsWith('.')).length : 0);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    while (indexCount() < 1 && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGKILL');
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
    const packsAfterKill = packCount();
    expect(packsAfterKill).toBeGreaterThanOrEqual(1);
    expect(json<unknown[]>(await backup(['snapshots', '--repo', repo, '--json']))).toEqual([]);

    // The killed process's lock is stale (same host, dead pid): the next backup is not blocked by it.
    const snapshot = json<{ id: string; stats: { addedBytes: number; logicalBytes: number } }>(await backup(['run', '--repo', repo, '--path', big, '--json']));
    expect(snapshot.stats.logicalBytes).toBe(96 * 1024 * 1024);
    expect(snapshot.stats.addedBytes).toBeLessThan(snapshot.stats.logicalBytes);
    const verify = json<{ ok: boolean }>(await backup(['verify', '--repo', repo, '--read-data', '--json']));
    expect(verify.ok).toBe(true);
    const prune = json<{ orphanPacks: number }>(await backup(['prune', '--repo', repo, '--json']));
    expect(prune.orphanPacks).toBeGreaterThanOrEqual(0);
    json(await backup(['restore', snapshot.id, '--repo', repo, '--target', at('killed-restore'), '--json']));
    expect(sha256(readFileSync(at('killed-restore/big.bin')))).toBe(sha256(readFileSync(big)));
    expect(json<{ removed: number }>(await backup(['unlock', '--repo', repo, '--json'])).removed).toBe(1);
  }, 240_000);

  it('gives one-line errors: wrong passphrase (exit 1), missing repository flag (exit 2)', async () => {
    const repo = pathToFileURL(at('errors-repo')).href;
    json(await backup(['init', '--repo', repo, '--json']));
    writeFileSync(at('wrong.txt'), 'not the passphrase\n');
    const wrong = await backup(['snapshots', '--repo', repo, '--passphrase-file', at('wrong.txt')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toEqual(['torsh-depot backup: Wrong repository passphrase: no key file opens with it.']);
    const usage = await runCliProcess(['backup', 'snapshots'], env());
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--repo URL is required');
  }, 60_000);
});
