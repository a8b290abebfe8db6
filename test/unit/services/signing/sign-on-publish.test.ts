import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../../shared/domain/jobs';
import type { Core } from '../../../../electron/services/composition-root';
import { checkSignature, digestFileForSigning, digestStreamForSigning, signDigests } from '../../../../electron/services/signing/file-signature';
import { generateSigningKeyPair } from '../../../../electron/services/signing/ed25519-keys';
import { decodePublicKey, encodePublicKey } from '../../../../electron/services/signing/minisign-format';
import { newTestCore } from '../../../support/test-core';
import { makeTestPackage } from '../../../support/packages';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const context = { origin: 'test' } as const;

function newCore(): { core: Core; work: string } {
  return newTestCore(cleanups);
}

async function publish(core: Core, file: string, signWith: string | null): Promise<JobRecord> {
  const answer = await core.router.dispatch('packages.publish', { source: { kind: 'path', path: file }, signWith }, context);
  if (!answer.ok) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
  return answer.result as JobRecord;
}

async function settled(core: Core, id: string): Promise<JobRecord> {
  await expect.poll(() => ['succeeded', 'failed', 'cancelled'].includes(core.jobs.get(id).status), { timeout: 60_000 }).toBe(true);
  return core.jobs.get(id);
}

describe('signing on publish', () => {
  it('publishes and signs in one job: the signature verifies with minisign semantics and the version is signed-trusted', async () => {
    const { core, work } = newCore();
    const key = await core.keyring.generate('Release');
    const file = await makeTestPackage(work, { name: 'signed-on-publish', version: '1.0.0' });
    const job = await settled(core, (await publish(core, file, key.keyId)).id);
    expect(job.status).toBe('succeeded');
    expect(job.progress).toBe(1);
    const metadata = core.registry.getVersion('signed-on-publish', '1.0.0');
    expect(metadata.signatures).toMatchObject([{ key_id: key.keyId, trusted: true, state: 'trusted', signed_at: expect.any(String) }]);
    expect(core.registry.listVersions('signed-on-publish').versions).toMatchObject([{ version: '1.0.0', signature: 'signed-trusted' }]);
    const text = core.registry.getSignature('signed-on-publish', '1.0.0', key.keyId);
    const check = checkSignature(text, [decodePublicKey(key.publicKey)], await digestFileForSigning(file), { name: 'signed-on-publish', version: '1.0.0', sha256: metadata.digest, strict: true });
    expect(check.valid).toBe(true);
  });

  it('signs an encrypted version over its ciphertext, the bytes a download gets', async () => {
    const { core, work } = newCore();
    const key = await core.keyring.generate('Release');
    const file = await makeTestPackage(work, { name: 'sealed-and-signed', version: '1.0.0' });
    const answer = await core.router.dispatch('packages.publish', { source: { kind: 'path', path: file }, signWith: key.keyId, encrypt: { passphrase: 'a long enough passphrase' } }, context);
    if (!answer.ok) throw new Error(answer.error.message);
    expect((await settled(core, (answer.result as JobRecord).id)).status).toBe('succeeded');
    const metadata = core.registry.getVersion('sealed-and-signed', '1.0.0');
    expect(metadata.encryption).toMatchObject({ algorithm: 'aes-256-gcm', unlock: 'passphrase' });
    expect(metadata.signatures).toMatchObject([{ key_id: key.keyId, state: 'trusted' }]);
    const { stream } = await core.registry.openDownload('sealed-and-signed', '1.0.0');
    const ciphertext = await digestStreamForSigning(stream);
    expect(`sha256:${ciphertext.sha256}`).toBe(metadata.digest);
    const text = core.registry.getSignature('sealed-and-signed', '1.0.0', key.keyId);
    expect(checkSignature(text, [decodePublicKey(key.publicKey)], ciphertext, { name: 'sealed-and-signed', version: '1.0.0', sha256: metadata.digest, strict: true }).valid).toBe(true);
  });

  it('refuses an unknown or retired key before publishing anything', async () => {
    const { core, work } = newCore();
    const file = await makeTestPackage(work, { name: 'never-published', version: '1.0.0' });
    await expect(publish(core, file, '0123456789ABCDEF')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const key = await core.keyring.generate('Old');
    await core.keyring.retire(key.keyId);
    await expect(publish(core, file, key.keyId)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('retired') });
    expect(core.registry.listVersionRows(0, 10).total).toBe(0);
  });

  it('cancelled while hashing for the signature: nothing is published and no temp file is left', async () => {
    const { core, work } = newCore();
    const key = await core.keyring.generate('Release');
    // Above the size where hashing moves to a worker thread, so the job is still hashing when cancelled.
    const file = await makeTestPackage(work, { name: 'cancelled-signing', version: '1.0.0', files: { 'models/weights.pt': 96 * 1024 * 1024 } });
    let jobId = '';
    const unsubscribe = core.events.subscribe((event, payload) => {
      if (event !== 'jobs.updated') return;
      const record = payload as JobRecord;
      if (record.id === jobId && record.status === 'running' && record.message === 'Hashing for the signature') core.jobs.cancel(jobId);
    });
    cleanups.push(unsubscribe);
    jobId = (await publish(core, file, key.keyId)).id;
    const job = await settled(core, jobId);
    expect(job.status).toBe('cancelled');
    expect(core.registry.listVersionRows(0, 10).total).toBe(0);
    expect(readdirSync(core.tmpDir).filter((entry) => !entry.startsWith('staged-folders'))).toEqual([]);
  });

  it('shows a signature by a trusted key that does not match the version as invalid', async () => {
    const { core, work } = newCore();
    const first = await makeTestPackage(work, { name: 'forged', version: '1.0.0' });
    const other = await makeTestPackage(work, { name: 'forged', version: '1.0.1' });
    const published = await settled(core, (await publish(core, first, null)).id);
    expect(published.status).toBe('succeeded');
    expect(core.registry.listVersions('forged').versions).toMatchObject([{ version: '1.0.0', signature: 'unsigned' }]);
    // A key nobody trusts yet signs other bytes while claiming this version's name, version and digest.
    const mallory = generateSigningKeyPair();
    const metadata = core.registry.getVersion('forged', '1.0.0');
    const otherDigests = await digestFileForSigning(other);
    const forged = signDigests(mallory, { ...otherDigests, sha256: metadata.digest.replace(/^sha256:/, '') }, { name: 'forged', version: '1.0.0' }, 'forged.torshpkg');
    expect(await core.registry.putSignature('forged', '1.0.0', forged, 'test', { id: null, mayReplaceAny: false })).toMatchObject({ state: 'untrusted', trusted: false });
    expect(core.registry.listVersions('forged').versions[0]?.signature).toBe('signed-untrusted');
    // Once the key is trusted, the registry can check it, and it does not verify.
    core.trust.trust(encodePublicKey(mallory), 'Mallory');
    expect(core.registry.getVersion('forged', '1.0.0').signatures).toMatchObject([{ state: 'invalid', trusted: false }]);
    expect(core.registry.listVersions('forged').versions[0]?.signature).toBe('invalid');
  });
});
