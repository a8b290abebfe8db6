import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { RegistryClient } from '../../../electron/services/registry-client/registry-client';
import { generateSigningKeyPair, formatKeyId } from '../../../electron/services/signing/ed25519-keys';
import { digestFileForSigning, signDigests } from '../../../electron/services/signing/file-signature';
import { encodePublicKey } from '../../../electron/services/signing/minisign-format';
import { silentLogger } from '../../../electron/services/logger';
import { runCliProcess, startServe, type CliResult, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';

const adminKey = 'signature-admin-key-0123456789';
const alice = generateSigningKeyPair();
const mallory = generateSigningKeyPair();
const carol = generateSigningKeyPair();
let host: ServingHost;
let registry: string;
let work: string;
let v1: string;
let v2: string;
const cleanups: Array<() => unknown> = [];

function at(name: string): string {
  return path.join(work, name);
}

function cli(args: string[]): Promise<CliResult> {
  const env = { ...process.env };
  delete env.TORSH_DEPOT_REGISTRY;
  delete env.TORSH_DEPOT_API_KEY;
  delete env.TORSH_DEPOT_SIGNATURE_POLICY;
  return runCliProcess(args, env, 60_000);
}

async function sign(file: string, pair: typeof alice, claim?: { name: string; version: string; sha256From: string }): Promise<string> {
  const digests = await digestFileForSigning(file);
  if (!claim) return signDigests(pair, digests, { name: 'demo', version: path.basename(file).includes('2.0.0') ? '2.0.0' : '1.0.0' }, path.basename(file));
  const claimed = await digestFileForSigning(claim.sha256From);
  return signDigests(pair, { ...digests, sha256: claimed.sha256 }, { name: claim.name, version: claim.version }, 'forged');
}

beforeAll(async () => {
  const data = makeTempDir();
  const scratch = makeTempDir();
  cleanups.push(data.cleanup, scratch.cleanup);
  work = scratch.dir;
  for (const [name, pair] of [['alice', alice], ['mallory', mallory], ['carol', carol]] as const) writeFileSync(at(`${name}.pub`), encodePublicKey(pair));
  v1 = await makeTestPackage(work, { name: 'demo', version: '1.0.0' });
  v2 = await makeTestPackage(work, { name: 'demo', version: '2.0.0' });
  host = await startServe(['--port', '0', '--data-dir', data.dir, '--default-visibility', 'public', '--trusted-key', at('alice.pub')], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  registry = new URL(host.url).origin;
  for (const file of [v1, v2]) expect((await cli(['publish', file, '--registry', registry, '--api-key', adminKey])).code).toBe(0);
});

afterAll(async () => {
  await host?.stop();
  for (const cleanup of cleanups.reverse()) cleanup();
});

describe('signatures on the registry', () => {
  const admin = (): RegistryClient => new RegistryClient({ baseUrl: registry, apiKey: adminKey, retries: 0 });

  it('accepts a signature only from a key that may publish', async () => {
    const anonymous = new RegistryClient({ baseUrl: registry, retries: 0 });
    await expect(anonymous.putSignature('demo', '1.0.0', await sign(v1, alice))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await admin().getVersion('demo', '1.0.0')).signatures).toEqual([]);
  });

  it('stores several signatures per version, one per key id, and shows which are trusted', async () => {
    const aliceSignature = await sign(v1, alice);
    expect(await admin().putSignature('demo', '1.0.0', aliceSignature)).toMatchObject({ key_id: formatKeyId(alice.keyId), trusted: true });
    expect(await admin().putSignature('demo', '1.0.0', await sign(v1, mallory))).toMatchObject({ key_id: formatKeyId(mallory.keyId), trusted: false });
    // The same key again replaces its signature rather than adding one.
    await admin().putSignature('demo', '1.0.0', aliceSignature);
    const metadata = await admin().getVersion('demo', '1.0.0');
    expect(metadata.signatures?.map((entry) => [entry.key_id, entry.trusted]).sort()).toEqual(
      [
        [formatKeyId(alice.keyId), true],
        [formatKeyId(mallory.keyId), false],
      ].sort(),
    );
    expect(metadata.signatures?.[0]?.signed_at).toMatch(/^\d{4}-\d\d-\d\dT/);

    const fetched = await new RegistryClient({ baseUrl: registry }).getSignature('demo', '1.0.0', formatKeyId(alice.keyId));
    expect(fetched).toBe(aliceSignature);
    writeFileSync(at('fetched.minisig'), fetched ?? '');
    const minisign = spawnSync('minisign', ['-V', '-H', '-m', v1, '-p', at('alice.pub'), '-x', at('fetched.minisig')], { encoding: 'utf8' });
    expect(minisign.status, minisign.stderr).toBe(0);
    expect(await new RegistryClient({ baseUrl: registry }).getSignature('demo', '1.0.0', formatKeyId(carol.keyId))).toBeNull();
  });

  it('rejects a signature moved to another version, and a trusted key whose signature does not verify', async () => {
    await expect(admin().putSignature('demo', '2.0.0', await sign(v1, alice))).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('does not name demo@2.0.0') });
    const forged = await sign(v1, alice, { name: 'demo', version: '2.0.0', sha256From: v2 });
    await expect(admin().putSignature('demo', '2.0.0', forged)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const response = await fetch(`${registry}/api/v1/packages/demo/2.0.0/signature`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: 'not a signature' });
    expect(response.status).toBe(400);
    expect((await admin().getVersion('demo', '2.0.0')).signatures).toEqual([]);
  });
});

describe('pull with a signature policy', () => {
  it('require: keeps a package signed by a trusted key', async () => {
    const result = await cli(['pull', 'demo@1.0.0', '--registry', registry, '-o', at('ok.torshpkg'), '--signature-policy', 'require', '--trusted-key', at('alice.pub')]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(at('ok.torshpkg')).equals(readFileSync(v1))).toBe(true);
  });

  it('require: an unsigned package fails closed and no bytes are kept', async () => {
    const before = readdirSync(work).sort();
    const result = await cli(['pull', 'demo@2.0.0', '--registry', registry, '-o', at('unsigned.torshpkg'), '--signature-policy', 'require', '--trusted-key', at('alice.pub')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^torsh-depot pull: demo@2\.0\.0 is not signed; the signature policy requires/);
    expect(readdirSync(work).sort()).toEqual(before);
  });

  it('require: signatures only by untrusted keys, or a trusted key whose signature is forged, fail closed', async () => {
    const untrusted = await cli(['pull', 'demo@1.0.0', '--registry', registry, '-o', at('untrusted.torshpkg'), '--signature-policy', 'require', '--trusted-key', at('carol.pub')]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('not trusted');
    // carol is unknown to the registry, so it stores her signature unverified; the client catches it.
    await new RegistryClient({ baseUrl: registry, apiKey: adminKey }).putSignature('demo', '2.0.0', await sign(v1, carol, { name: 'demo', version: '2.0.0', sha256From: v2 }));
    const forged = await cli(['pull', 'demo@2.0.0', '--registry', registry, '-o', at('forged.torshpkg'), '--signature-policy', 'require', '--trusted-key', at('carol.pub')]);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('does not match the file');
    expect(existsSync(at('untrusted.torshpkg')) || existsSync(at('forged.torshpkg')) || existsSync(at('forged.torshpkg.unverified'))).toBe(false);
  });

  it('warn: keeps the package and says why on stderr; off: silent', async () => {
    const warned = await cli(['pull', 'demo@2.0.0', '--registry', registry, '-o', at('warned.torshpkg'), '--signature-policy', 'warn', '--trusted-key', at('alice.pub')]);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain('warning:');
    expect(existsSync(at('warned.torshpkg'))).toBe(true);
    const off = await cli(['pull', 'demo@2.0.0', '--registry', registry, '-o', at('off.torshpkg')]);
    expect(off).toMatchObject({ code: 0, stderr: '' });
  });

  it('require without any trusted key is a usage error', async () => {
    expect((await cli(['pull', 'demo@1.0.0', '--registry', registry, '--signature-policy', 'require'])).code).toBe(2);
  });
});

describe('package cache with a per-registry policy', () => {
  let core: Core;
  beforeAll(async () => {
    const data = makeTempDir();
    cleanups.push(data.cleanup);
    core = createCore({ dataDir: data.dir, shell: 'headless', logger: silentLogger });
    cleanups.push(() => core.close());
    await core.settings.update({ registries: [{ id: 'team', label: 'Team', url: registry, apiKeySecret: null, signaturePolicy: 'require' }] });
    core.trust.trust(encodePublicKey(alice), 'Alice');
  });

  it('caches a trusted-signed version and refuses an unsigned one without keeping its bytes', async () => {
    const good = await core.cache.fetch(registry, 'demo', '1.0.0');
    expect(readFileSync(good.path).equals(readFileSync(v1))).toBe(true);
    await expect(core.cache.fetch(registry, 'demo', '2.0.0')).rejects.toMatchObject({ code: 'INVALID_PACKAGE' });
    expect(core.cache.list().map((entry) => entry.version)).toEqual(['1.0.0']);
    const cacheFiles = readdirSync(path.join(core.dataDir, 'cache'), { recursive: true }).map(String);
    expect(cacheFiles.filter((name) => !name.endsWith('.lock') && name.includes('/'))).toHaveLength(1);
  });

  it('a retired key no longer vouches, even for a version already cached', async () => {
    core.trust.retire(formatKeyId(alice.keyId));
    await expect(core.cache.fetch(registry, 'demo', '1.0.0')).rejects.toMatchObject({ code: 'INVALID_PACKAGE', reason: 'signature-required' });
    core.trust.trust(encodePublicKey(alice), 'Alice');
    expect((await core.cache.fetch(registry, 'demo', '1.0.0')).fromCache).toBe(true);
  });
});
