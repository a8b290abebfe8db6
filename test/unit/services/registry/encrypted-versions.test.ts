import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCore, type Core } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import { receiveUpload } from '../../../../electron/services/registry/upload-receiver';
import { encodeAgeRecipient, formatAgeIdentityFile, generateAgeIdentity, x25519PublicOf } from '../../../../electron/services/encryption/x25519-keys';
import type { ErrorEnvelope } from '../../../../shared/errors';
import type { JobRecord } from '../../../../shared/domain/jobs';
import { cheapEncryption, runContractJob } from '../../../support/contract-jobs';
import { makeTempDir } from '../../../support/temp-dir';
import { makeTestPackage } from '../../../support/packages';
import { thrown } from '../../../support/depot-errors';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const passphrase = 'correct horse battery staple';

interface Fixture {
  core: Core;
  dataDir: string;
  work: string;
  out: string;
}

function setup(): Fixture {
  const data = makeTempDir();
  const work = makeTempDir();
  cleanups.push(data.cleanup, work.cleanup);
  const core = createCore({ dataDir: data.dir, shell: 'headless', logger: silentLogger, encryptorTuning: cheapEncryption });
  cleanups.push(() => core.close());
  const out = path.join(work.dir, 'out');
  mkdirSync(out);
  return { core, dataDir: data.dir, work: work.dir, out };
}

async function request(core: Core, channel: string, input: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: ErrorEnvelope }> {
  return (await core.router.dispatch(channel, input, { origin: 'test' })) as { ok: true; result: unknown } | { ok: false; error: ErrorEnvelope };
}


const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function blobPath(dataDir: string, digest: string): string {
  return path.join(dataDir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

function storedBlob(dataDir: string, digest: string): Buffer {
  return readFileSync(blobPath(dataDir, digest));
}

function blobFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'blobs');
  return existsSync(root) ? readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name) : [];
}

/** What the core left in its scratch folder besides the staging folders it keeps. */
function scratchFiles(core: Core): string[] {
  return readdirSync(core.tmpDir).filter((name) => !name.startsWith('staging'));
}

async function publishEncrypted(fixture: Fixture, name: string, encrypt: unknown, spec: { dependencies?: Record<string, string> } = {}): Promise<{ file: string; job: JobRecord }> {
  const file = await makeTestPackage(fixture.work, { name, version: '1.0.0', description: 'secret weights', files: { 'models/w.pt': 300_000, 'config/c.yaml': 'a: 1\n' }, ...spec });
  const job = await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: file }, encrypt });
  return { file, job };
}

describe('encrypt on publish', () => {
  it.each([
    { label: 'passphrase, AES-256-GCM', encrypt: { passphrase }, algorithm: 'aes-256-gcm', unlock: 'passphrase', magic: 'TORSHENC', decrypt: { passphrase } },
    { label: 'passphrase, age', encrypt: { algorithm: 'chacha20-poly1305', passphrase }, algorithm: 'chacha20-poly1305', unlock: 'passphrase', magic: 'age-encryption.org/v1', decrypt: { passphrase } },
  ])('$label: stores ciphertext, discloses no resources, and saves back the exact plaintext', async ({ encrypt, algorithm, unlock, magic, decrypt }) => {
    const fixture = setup();
    const { file, job } = await publishEncrypted(fixture, 'sealed', encrypt, { dependencies: { 'base-model': '^1.0.0' } });
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ created: true, encryption: { algorithm, unlock } });

    const metadata = fixture.core.registry.getVersion('sealed', '1.0.0');
    expect(metadata).toMatchObject({ description: 'secret weights', encryption: { algorithm, unlock }, resources: [], dependencies: { 'base-model': '^1.0.0' } });
    const blob = storedBlob(fixture.dataDir, metadata.digest);
    expect(blob.subarray(0, magic.length).toString()).toBe(magic);
    expect(`sha256:${sha256(blob)}`).toBe(metadata.digest);
    expect(metadata.size).toBe(blob.length);
    expect(blob.includes(Buffer.from('models/w.pt'))).toBe(false);

    const saved = await runContractJob(fixture.core, 'packages.exportVersion', { name: 'sealed', version: '1.0.0', directory: fixture.out, decrypt });
    expect(saved.status).toBe('succeeded');
    expect(readdirSync(fixture.out)).toEqual(['sealed-1.0.0.torshpkg']);
    expect(sha256(readFileSync(path.join(fixture.out, 'sealed-1.0.0.torshpkg')))).toBe(sha256(readFileSync(file)));
    expect(scratchFiles(fixture.core)).toEqual([]);
  });

  it('to an age recipient: the real `age -d -i` opens the stored blob, and the identity saves it back', async () => {
    const fixture = setup();
    const identity = generateAgeIdentity();
    const { file, job } = await publishEncrypted(fixture, 'for-alice', { recipients: [encodeAgeRecipient(x25519PublicOf(identity.secret))] });
    expect(job.status).toBe('succeeded');
    const metadata = fixture.core.registry.getVersion('for-alice', '1.0.0');
    expect(metadata.encryption).toEqual({ algorithm: 'chacha20-poly1305', unlock: 'recipients' });

    const identityFile = path.join(fixture.work, 'alice.key');
    writeFileSync(identityFile, formatAgeIdentityFile(identity), { mode: 0o600 });
    const decryptedByAge = execFileSync('age', ['-d', '-i', identityFile, blobPath(fixture.dataDir, metadata.digest)], { maxBuffer: 16 * 1024 * 1024 });
    expect(sha256(decryptedByAge)).toBe(sha256(readFileSync(file)));

    const saved = await runContractJob(fixture.core, 'packages.exportVersion', { name: 'for-alice', version: '1.0.0', directory: fixture.out, decrypt: { identity: formatAgeIdentityFile(identity) } });
    expect(saved.status).toBe('succeeded');
    expect(sha256(readFileSync(path.join(fixture.out, 'for-alice-1.0.0.torshpkg')))).toBe(sha256(readFileSync(file)));
  });

  it('lists, search and the all-versions rows carry the lock', async () => {
    const fixture = setup();
    await publishEncrypted(fixture, 'locked-one', { passphrase });
    const plain = await makeTestPackage(fixture.work, { name: 'open-one', version: '1.0.0' });
    expect((await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: plain } })).status).toBe('succeeded');
    const { registry } = fixture.core;
    expect(registry.search('', 1, 20).packages.map((entry) => [entry.name, entry.encryption])).toEqual([
      ['locked-one', { algorithm: 'aes-256-gcm', unlock: 'passphrase' }],
      ['open-one', null],
    ]);
    expect(registry.listVersions('locked-one').versions[0]?.encryption).toEqual({ algorithm: 'aes-256-gcm', unlock: 'passphrase' });
    expect(registry.listVersionRows(0, 10).rows.map((row) => row.encryption?.unlock ?? null)).toEqual(['passphrase', null]);
  });

  it('keeps the passphrase out of the database: not in job params, results or any stored byte', async () => {
    const fixture = setup();
    const secret = 'never-store-me-7f3a9c';
    await publishEncrypted(fixture, 'quiet', { passphrase: secret });
    await runContractJob(fixture.core, 'packages.exportVersion', { name: 'quiet', version: '1.0.0', directory: fixture.out, decrypt: { passphrase: secret } });
    const params = fixture.core.db.prepare('SELECT params_json, result_json FROM jobs').all() as Array<{ params_json: string; result_json: string | null }>;
    expect(params.map((row) => JSON.parse(row.params_json) as unknown)).toEqual(expect.arrayContaining([expect.objectContaining({ encrypted: true }), expect.objectContaining({ decrypt: true })]));
    fixture.core.db.pragma('wal_checkpoint(TRUNCATE)');
    const databaseFiles = readdirSync(fixture.dataDir).filter((name) => name.includes('.sqlite') || name.includes('.db'));
    expect(databaseFiles.length).toBeGreaterThan(0);
    for (const name of databaseFiles) expect(readFileSync(path.join(fixture.dataDir, name)).includes(Buffer.from(secret))).toBe(false);
  });

  it('refuses a re-publish of an encrypted version (CONFLICT), encrypted or plain, and keeps the first', async () => {
    const fixture = setup();
    const { file } = await publishEncrypted(fixture, 'once', { passphrase });
    const first = fixture.core.registry.getVersion('once', '1.0.0').digest;
    const again = await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: file }, encrypt: { passphrase } });
    expect(again.error).toMatchObject({ code: 'CONFLICT', reason: 'version-exists' });
    const plainAgain = await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: file } });
    expect(plainAgain.error).toMatchObject({ code: 'CONFLICT', reason: 'version-exists' });
    expect(fixture.core.registry.getVersion('once', '1.0.0').digest).toBe(first);
    expect(blobFiles(fixture.dataDir)).toHaveLength(1);
  });

  it('refuses to encrypt over a plain version too (no silent duplicate)', async () => {
    const fixture = setup();
    const file = await makeTestPackage(fixture.work, { name: 'plain-first', version: '1.0.0' });
    expect((await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: file } })).status).toBe('succeeded');
    const encrypted = await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: file }, encrypt: { passphrase } });
    expect(encrypted.error).toMatchObject({ code: 'CONFLICT', reason: 'version-exists' });
    // The plain rule is unchanged: the same bytes again are a no-op.
    expect((await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: file } })).result).toMatchObject({ created: false });
  });

  it('validates the request in the contract: short passphrase, bad recipient, both at once', async () => {
    const fixture = setup();
    const source = { kind: 'path', path: path.join(fixture.work, 'x.torshpkg') };
    for (const encrypt of [{ passphrase: 'short' }, { recipients: ['age1notarecipient'] }, { recipients: [] }, { passphrase, recipients: ['age1x'] }]) {
      const answer = await request(fixture.core, 'packages.publish', { source, encrypt });
      expect(answer.ok ? 'accepted' : answer.error.code).toBe('VALIDATION_FAILED');
    }
    // The regex passes but the bech32 checksum does not: the core refuses it as a typed error.
    const fake = `age1${'q'.repeat(58)}`;
    const file = await makeTestPackage(fixture.work, { name: 'bad-recipient', version: '1.0.0' });
    const job = await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: file }, encrypt: { recipients: [fake] } });
    expect(job.error).toMatchObject({ code: 'VALIDATION_FAILED', reason: 'bad-recipient' });
    expect(thrown(() => fixture.core.registry.getVersion('bad-recipient', '1.0.0'))).toMatchObject({ code: 'NOT_FOUND', reason: 'not-found' });
    expect(blobFiles(fixture.dataDir)).toEqual([]);
    expect(scratchFiles(fixture.core)).toEqual([]);
  });

  it('cancelled while encrypting: no version, no blob, no temp file', async () => {
    const fixture = setup();
    const file = await makeTestPackage(fixture.work, { name: 'halted', version: '1.0.0', files: { 'models/big.pt': 8 * 1024 * 1024 } });
    const upload = await receiveUpload(createReadStream(file), { tmpDir: fixture.core.tmpDir, maxBytes: 1 << 30 });
    const controller = new AbortController();
    const messages: string[] = [];
    const outcome = await fixture.core.registry
      .publishUpload(upload, {
        publisher: 'test',
        encrypt: { algorithm: 'aes-256-gcm', passphrase },
        signal: controller.signal,
        onProgress: (fraction, message) => {
          messages.push(message);
          // Part-way through the ciphertext (validation ends at 0.45).
          if (message === 'Encrypting' && fraction > 0.5) controller.abort();
        },
      })
      .then(
        () => 'published',
        (reason: unknown) => (reason as Error).name,
      );
    expect(outcome).toBe('AbortError');
    expect(messages).toContain('Encrypting');
    expect(thrown(() => fixture.core.registry.getVersion('halted', '1.0.0'))).toMatchObject({ code: 'NOT_FOUND', reason: 'not-found' });
    expect(blobFiles(fixture.dataDir)).toEqual([]);
    expect(scratchFiles(fixture.core)).toEqual([]);
  });
});

describe('decrypt on download', () => {
  it('wrong passphrase, wrong identity, wrong kind of key: typed errors and nothing left behind', async () => {
    const fixture = setup();
    await publishEncrypted(fixture, 'by-pass', { passphrase });
    await publishEncrypted(fixture, 'by-age-pass', { algorithm: 'chacha20-poly1305', passphrase });
    const bob = generateAgeIdentity();
    await publishEncrypted(fixture, 'for-bob', { recipients: [encodeAgeRecipient(x25519PublicOf(bob.secret))] });
    const eve = formatAgeIdentityFile(generateAgeIdentity());
    const cases: Array<[string, unknown, Partial<ErrorEnvelope>]> = [
      ['by-pass', { passphrase: 'not the passphrase' }, { code: 'UNAUTHORIZED', reason: 'bad-passphrase' }],
      ['by-age-pass', { passphrase: 'not the passphrase' }, { code: 'UNAUTHORIZED', reason: 'bad-passphrase' }],
      ['for-bob', { identity: eve }, { code: 'UNAUTHORIZED', reason: 'no-matching-identity' }],
      ['for-bob', { passphrase }, { code: 'VALIDATION_FAILED', reason: 'identity-required' }],
      ['by-pass', { identity: eve }, { code: 'VALIDATION_FAILED', reason: 'passphrase-required' }],
      ['for-bob', { identity: 'AGE-SECRET-KEY-1NOTAKEY' }, { code: 'VALIDATION_FAILED', reason: 'bad-identity' }],
    ];
    for (const [name, decrypt, expected] of cases) {
      const job = await runContractJob(fixture.core, 'packages.exportVersion', { name, version: '1.0.0', directory: fixture.out, decrypt });
      expect({ name, error: job.error }).toMatchObject({ name, error: expected });
      // The key is tried on the header alone: a wrong one fails before the package is copied.
      expect({ name, progress: job.progress ?? 0 }).toEqual({ name, progress: 0 });
      expect(readdirSync(fixture.out)).toEqual([]);
      expect(scratchFiles(fixture.core)).toEqual([]);
    }
    expect(fixture.core.registry.getVersion('by-pass', '1.0.0').downloads).toBe(0);
  });

  it('without `decrypt` saves the ciphertext under a name that says so', async () => {
    const fixture = setup();
    await publishEncrypted(fixture, 'aes-kept', { passphrase });
    await publishEncrypted(fixture, 'age-kept', { algorithm: 'chacha20-poly1305', passphrase });
    for (const name of ['aes-kept', 'age-kept']) expect((await runContractJob(fixture.core, 'packages.exportVersion', { name, version: '1.0.0', directory: fixture.out })).status).toBe('succeeded');
    expect(readdirSync(fixture.out).sort()).toEqual(['aes-kept-1.0.0.torshpkg.torshenc', 'age-kept-1.0.0.torshpkg.age']);
    const metadata = fixture.core.registry.getVersion('age-kept', '1.0.0');
    expect(`sha256:${sha256(readFileSync(path.join(fixture.out, 'age-kept-1.0.0.torshpkg.age')))}`).toBe(metadata.digest);
  });

  it('refuses to decrypt a version that is not encrypted', async () => {
    const fixture = setup();
    const file = await makeTestPackage(fixture.work, { name: 'in-clear', version: '1.0.0' });
    await runContractJob(fixture.core, 'packages.publish', { source: { kind: 'path', path: file } });
    const job = await runContractJob(fixture.core, 'packages.exportVersion', { name: 'in-clear', version: '1.0.0', directory: fixture.out, decrypt: { passphrase } });
    expect(job.error).toMatchObject({ code: 'VALIDATION_FAILED', reason: 'not-encrypted' });
    expect(readdirSync(fixture.out)).toEqual([]);
  });
});
