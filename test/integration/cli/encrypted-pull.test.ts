import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createRegistryRoutes } from '../../../electron/host/registry-routes';
import { encodeAgeRecipient, formatAgeIdentityFile, generateAgeIdentity, x25519PublicOf } from '../../../electron/services/encryption/x25519-keys';
import { cheapEncryption, runContractJob } from '../../support/contract-jobs';
import { runCliProcess } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';

const temp = makeTempDir('torsh-depot-encrypted-pull-');
let core: Core;
let host: RunningHost;
const bob = generateAgeIdentity();
const files: Record<string, string> = {};

async function publish(name: string, encrypt?: unknown): Promise<void> {
  files[name] = await makeTestPackage(temp.dir, { name, version: '1.0.0', files: { 'models/w.pt': 200_000 } });
  const job = await runContractJob(core, 'packages.publish', { source: { kind: 'path', path: files[name] }, ...(encrypt ? { encrypt } : {}) });
  if (job.status !== 'succeeded') throw new Error(`publishing ${name} failed: ${job.error?.message ?? 'unknown'}`);
}

beforeAll(async () => {
  core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger, encryptorTuning: cheapEncryption });
  core.access.configureDefaultVisibility('public');
  const registryRoutes = createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => 1 << 30, logger: silentLogger });
  host = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [registryRoutes] });
  await publish('locked', { passphrase: 'pull me out please' });
  await publish('for-bob', { recipients: [encodeAgeRecipient(x25519PublicOf(bob.secret))] });
  await publish('in-clear');
  writeFileSync(path.join(temp.dir, 'right.txt'), 'pull me out please\n');
  writeFileSync(path.join(temp.dir, 'wrong.txt'), 'not it\n');
  writeFileSync(path.join(temp.dir, 'bob.key'), formatAgeIdentityFile(bob), { mode: 0o600 });
});

afterAll(async () => {
  await host?.close();
  await core?.close();
  temp.cleanup();
});

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function outDir(name: string): string {
  const dir = path.join(temp.dir, name);
  mkdirSync(dir);
  return dir;
}

function pull(spec: string, out: string, ...extra: string[]): ReturnType<typeof runCliProcess> {
  return runCliProcess(['pull', spec, '--registry', new URL(host.url).origin, '-o', out, ...extra]);
}

describe('torsh-depot pull of encrypted versions', () => {
  it('decrypts with --passphrase-file or --identity; the plaintext is byte-identical and nothing else is left', async () => {
    const out = outDir('decrypted');
    const byPassphrase = await pull('locked@1.0.0', out, '--passphrase-file', path.join(temp.dir, 'right.txt'));
    expect(byPassphrase.stderr).toBe('');
    expect(byPassphrase.stdout).toContain('decrypted');
    const byIdentity = await pull('for-bob@1.0.0', out, '--identity', path.join(temp.dir, 'bob.key'));
    expect(byIdentity.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['for-bob-1.0.0.torshpkg', 'locked-1.0.0.torshpkg']);
    expect(sha256(path.join(out, 'locked-1.0.0.torshpkg'))).toBe(sha256(files.locked ?? ''));
    expect(sha256(path.join(out, 'for-bob-1.0.0.torshpkg'))).toBe(sha256(files['for-bob'] ?? ''));
  });

  it('without a key keeps the ciphertext under a name that says so; a wrong key exits 1 leaving nothing', async () => {
    const out = outDir('sealed');
    const sealed = await pull('locked@1.0.0', out);
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).toContain('pull with --passphrase-file to decrypt');
    expect(readdirSync(out)).toEqual(['locked-1.0.0.torshpkg.torshenc']);
    expect(`sha256:${sha256(path.join(out, 'locked-1.0.0.torshpkg.torshenc'))}`).toBe(core.registry.getVersion('locked', '1.0.0').digest);

    const wrongOut = outDir('wrong');
    const wrong = await pull('locked@1.0.0', wrongOut, '--passphrase-file', path.join(temp.dir, 'wrong.txt'));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^torsh-depot pull: .*Wrong passphrase/);
    expect(readdirSync(wrongOut)).toEqual([]);

    const plain = await pull('in-clear@1.0.0', wrongOut, '--passphrase-file', path.join(temp.dir, 'right.txt'));
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('is not encrypted');
    expect(readdirSync(wrongOut)).toEqual([]);
  });
});
