import { createReadStream } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import { receiveUpload } from '../../../../electron/services/registry/upload-receiver';
import { signAllVersions } from '../../../../electron/services/signing/sign-versions-job';
import { digestFileForSigning, checkSignature } from '../../../../electron/services/signing/file-signature';
import { decodePublicKey } from '../../../../electron/services/signing/minisign-format';
import { makeTempDir } from '../../../support/temp-dir';
import { makeTestPackage } from '../../../support/packages';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const context = { origin: 'test' } as const;

async function coreWithVersions(versions: string[]): Promise<{ core: Core; files: Map<string, string> }> {
  const data = makeTempDir();
  const work = makeTempDir();
  cleanups.push(data.cleanup, work.cleanup);
  const core = createCore({ dataDir: data.dir, shell: 'headless', logger: silentLogger });
  cleanups.push(() => core.close());
  const files = new Map<string, string>();
  for (const version of versions) {
    const file = await makeTestPackage(work.dir, { name: 'rotated', version });
    files.set(version, file);
    await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'test' });
  }
  return { core, files };
}

async function call<T>(core: Core, channel: string, input: unknown): Promise<T> {
  const answer = await core.router.dispatch(channel as never, input as never, context);
  if (!answer.ok) throw new Error(`${channel}: ${answer.error.message}`);
  return answer.result as T;
}

describe('signing channels', () => {
  it('generates keys kept only in the secret store, trusted at once, exportable as minisign public keys', async () => {
    const { core } = await coreWithVersions([]);
    const key = await call<{ keyId: string; publicKey: string }>(core, 'signing.keys.generate', { label: 'Release key' });
    expect(key.keyId).toMatch(/^[0-9A-F]{16}$/);
    expect((await call<{ publicKey: string }>(core, 'signing.keys.export', { keyId: key.keyId })).publicKey).toBe(key.publicKey);
    expect(await call(core, 'signing.trust.list', {})).toMatchObject([{ keyId: key.keyId, label: 'Release key', retiredAt: null }]);
    // The secret half is in the secret store, never in the database.
    expect(core.secrets.names()).toContain(`signing-key.${key.keyId}`);
    const rows = core.db.prepare('SELECT public_key FROM trusted_keys').all() as Array<{ public_key: string }>;
    expect(JSON.stringify(rows)).not.toContain(JSON.parse(core.secrets.get(`signing-key.${key.keyId}`) ?? '{}').seed);
    expect(await core.router.dispatch('signing.keys.export', { keyId: 'nothex' }, context)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });

  it('trusts, retires and forgets publisher keys; rejects text that is not a public key', async () => {
    const { core } = await coreWithVersions([]);
    const other = await call<{ keyId: string; publicKey: string }>(core, 'signing.keys.generate', { label: 'Other' });
    await call(core, 'signing.trust.remove', { keyId: other.keyId });
    expect(await call(core, 'signing.trust.add', { publicKey: other.publicKey, label: 'Partner' })).toMatchObject([{ keyId: other.keyId, label: 'Partner' }]);
    expect(await call(core, 'signing.trust.retire', { keyId: other.keyId })).toMatchObject([{ keyId: other.keyId, retiredAt: expect.any(String) }]);
    expect(core.trust.activeKeys()).toEqual([]);
    expect(await core.router.dispatch('signing.trust.add', { publicKey: 'hello', label: 'x' }, context)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });

  it('rotates: signs every version with the new key as a job, then retires the old key', async () => {
    const { core, files } = await coreWithVersions(['1.0.0', '1.1.0', '2.0.0']);
    const oldKey = await call<{ keyId: string }>(core, 'signing.keys.generate', { label: 'Old' });
    const newKey = await call<{ keyId: string; publicKey: string }>(core, 'signing.keys.generate', { label: 'New' });
    const job = await call<{ id: string }>(core, 'signing.signAllVersions', { keyId: oldKey.keyId });
    await expect.poll(() => core.jobs.get(job.id).status, { timeout: 30_000 }).toBe('succeeded');

    const rotation = await call<{ id: string }>(core, 'signing.signAllVersions', { keyId: newKey.keyId, retireKeyId: oldKey.keyId });
    await expect.poll(() => core.jobs.get(rotation.id).status, { timeout: 30_000 }).toBe('succeeded');
    expect(core.jobs.get(rotation.id).progress).toBe(1);
    for (const [version, file] of files) {
      const signatures = core.registry.getVersion('rotated', version).signatures ?? [];
      expect(signatures.map((entry) => [entry.key_id, entry.trusted]).sort()).toEqual(
        [
          [newKey.keyId, true],
          [oldKey.keyId, false],
        ].sort(),
      );
      const text = core.registry.getSignature('rotated', version, newKey.keyId);
      const check = checkSignature(text, [decodePublicKey(newKey.publicKey)], await digestFileForSigning(file), { name: 'rotated', version, sha256: core.registry.getVersion('rotated', version).digest, strict: true });
      expect(check.valid).toBe(true);
    }
    expect(core.keyring.list().find((key) => key.keyId === oldKey.keyId)?.retiredAt).not.toBeNull();
    expect(() => core.keyring.pair(oldKey.keyId)).toThrow(/retired/);
  });

  it('cancelling stops between versions and retires nothing', async () => {
    const { core } = await coreWithVersions(['1.0.0', '1.1.0', '1.2.0']);
    const oldKey = await core.keyring.generate('Old');
    const newKey = await core.keyring.generate('New');
    const controller = new AbortController();
    const messages: string[] = [];
    const run = signAllVersions(core.registry, core.keyring, newKey.keyId, oldKey.keyId, {
      signal: controller.signal,
      reportProgress: (_progress, message) => {
        messages.push(message ?? '');
        if (messages.length === 2) controller.abort();
      },
    });
    // Cancelling between versions stops with the signal's own abort error.
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const signedCount = ['1.0.0', '1.1.0', '1.2.0'].filter((version) => (core.registry.getVersion('rotated', version).signatures ?? []).length > 0).length;
    expect(signedCount).toBeLessThan(3);
    expect(core.keyring.list().find((key) => key.keyId === oldKey.keyId)?.retiredAt).toBeNull();
  });
});
