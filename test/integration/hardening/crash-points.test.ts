import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../../electron/services/database/migrations';
import { openDatabase } from '../../../electron/services/database/open-database';
import { hashApiKey } from '../../../electron/services/access/api-key-secret';
import { PackageEncryptor } from '../../../electron/services/encryption/package-encryptor';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';
import { adminKey, finish, startServeHost, storedBlobs, type ServeTestHost } from './serve-test-host';
import { openContractSocket, type ContractSocket } from './contract-socket';

/**
 * Issue 13, crash points: `kill -9` of serve at the worst moments (TORSH_DEPOT_CRASH_AT makes the process
 * SIGKILL itself there). After a restart the registry is consistent: no version without its blob, no half
 * state anyone can see, and the garbage collector reclaims the rest.
 */
const cleanups: Array<() => unknown> = [];
const sockets: ContractSocket[] = [];
afterEach(() => sockets.splice(0).forEach((socket) => socket.close()));
afterAll(() => finish(cleanups));

function folders(): { data: string; work: string } {
  const data = makeTempDir();
  const work = makeTempDir();
  cleanups.push(data.cleanup, work.cleanup);
  return { data: data.dir, work: work.dir };
}

async function socketTo(host: ServeTestHost): Promise<ContractSocket> {
  const socket = await openContractSocket(host.serve.url);
  sockets.push(socket);
  return socket;
}

/** Waits for the host to die at its crash point and checks it died there, by SIGKILL. */
async function diedAt(host: ServeTestHost, point: string): Promise<void> {
  await host.stop();
  expect(host.serve.child.signalCode).toBe('SIGKILL');
  expect(host.serve.output().stderr).toContain(`crash point ${point}`);
}

function put(host: ServeTestHost, name: string, file: string, headers: Record<string, string> = {}): Promise<number> {
  return fetch(`${host.api}/packages/${name}/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}`, ...headers }, body: new Uint8Array(readFileSync(file)) }).then(
    async (response) => {
      await response.arrayBuffer();
      return response.status;
    },
    () => 0, // the host died mid-request
  );
}

/** After a restart: the version is absent everywhere, an orphan blob (if any) is reclaimed, and publishing again works. */
async function expectNothingPublished(host: ServeTestHost, name: string): Promise<void> {
  expect((await host.call('GET', `/packages/${name}/1.0.0`, adminKey)).status).toBe(404);
  expect((await host.call('GET', `/packages/${name}`, adminKey)).status).toBe(404);
  expect((await host.call('GET', `/search?q=${name}`, adminKey)).body).toMatchObject({ total: 0 });
  expect(readdirSync(path.join(host.dataDir, 'tmp'))).toEqual([]);
}

describe('kill -9 at crash points', () => {
  it('between storing the blob and recording the version: no version; the garbage collector reclaims the blob', async () => {
    const { data, work } = folders();
    const file = await makeTestPackage(work, { name: 'half-done', version: '1.0.0' });
    const first = await startServeHost(data, { env: { TORSH_DEPOT_CRASH_AT: 'publish-after-store' } });
    expect(await put(first, 'half-done', file)).toBe(0);
    await diedAt(first, 'publish-after-store');
    expect(storedBlobs(data)).toHaveLength(1);

    const second = await startServeHost(data);
    await expectNothingPublished(second, 'half-done');
    expect((await second.call('POST', '/storage/gc', adminKey, { grace_seconds: 0 })).body).toMatchObject({ unreferenced: 1, removed: 1, referenced: 0 });
    expect(storedBlobs(data)).toEqual([]);
    expect(await put(second, 'half-done', file)).toBe(201);
    const download = await fetch(`${second.api}/packages/half-done/1.0.0/download`, { headers: { Authorization: `Bearer ${adminKey}` } });
    expect(Buffer.from(await download.arrayBuffer()).equals(readFileSync(file))).toBe(true);
    await second.stop();
  }, 90_000);

  it('during an encrypted publish (sealed upload, after storing): no version; the ciphertext blob is reclaimed', async () => {
    const { data, work } = folders();
    const plain = await makeTestPackage(work, { name: 'sealed-crash', version: '1.0.0' });
    const sealed = path.join(work, 'sealed.torshenc');
    await new PackageEncryptor({ scryptParams: { log2N: 10, r: 8, p: 1 } }).encryptFile(plain, sealed, { passphrase: 'a long enough passphrase' });
    const first = await startServeHost(data, { env: { TORSH_DEPOT_CRASH_AT: 'publish-after-store' } });
    expect(await put(first, 'sealed-crash', sealed, { 'X-Torsh-Encrypted': '{}' })).toBe(0);
    await diedAt(first, 'publish-after-store');

    const second = await startServeHost(data);
    await expectNothingPublished(second, 'sealed-crash');
    expect((await second.call('POST', '/storage/gc', adminKey, { grace_seconds: 0 })).body).toMatchObject({ removed: 1 });
    expect(storedBlobs(data)).toEqual([]);
    expect(await put(second, 'sealed-crash', sealed, { 'X-Torsh-Encrypted': '{}' })).toBe(201);
    await second.stop();
  }, 90_000);

  it('while encrypting on publish (from the UI): no version, no blob, no temp file', async () => {
    const { data, work } = folders();
    const file = await makeTestPackage(work, { name: 'encrypting-crash', version: '1.0.0', files: { 'models/weights.pt': 8 * 1024 * 1024 } });
    const first = await startServeHost(data, { env: { TORSH_DEPOT_CRASH_AT: 'publish-encrypting' } });
    const socket = await socketTo(first);
    await expect(socket.job('packages.publish', { source: { kind: 'path', path: file }, encrypt: { passphrase: 'a long enough passphrase' } })).rejects.toThrow(/closed/);
    await diedAt(first, 'publish-encrypting');

    const second = await startServeHost(data);
    await expectNothingPublished(second, 'encrypting-crash');
    expect(storedBlobs(data)).toEqual([]);
    // The interrupted job is recorded as such, not left running.
    const jobs = await (await socketTo(second)).call<Array<{ kind: string; status: string }>>('jobs.list', {});
    expect(jobs.filter((job) => job.kind === 'package-publish').map((job) => job.status)).toEqual(['interrupted']);
    await second.stop();
  }, 90_000);

  it('during sign-on-publish: the version is published, whole and unsigned; signing it again works and minisign -V accepts it', async () => {
    const { data, work } = folders();
    const file = await makeTestPackage(work, { name: 'signing-crash', version: '1.0.0' });
    const first = await startServeHost(data, { env: { TORSH_DEPOT_CRASH_AT: 'sign-on-publish' } });
    const key = await (await socketTo(first)).call<{ keyId: string }>('signing.keys.generate', { label: 'Release' });
    await expect((await socketTo(first)).job('packages.publish', { source: { kind: 'path', path: file }, signWith: key.keyId })).rejects.toThrow(/closed/);
    await diedAt(first, 'sign-on-publish');

    const second = await startServeHost(data);
    const listing = await second.call('GET', '/packages/signing-crash', adminKey);
    expect(listing.body).toMatchObject({ versions: [{ version: '1.0.0', signature: 'unsigned' }] });
    const download = await fetch(`${second.api}/packages/signing-crash/1.0.0/download`, { headers: { Authorization: `Bearer ${adminKey}` } });
    expect(Buffer.from(await download.arrayBuffer()).equals(readFileSync(file))).toBe(true);
    expect((await second.call('POST', '/storage/gc', adminKey, { dry_run: true, grace_seconds: 0 })).body).toMatchObject({ referenced: 1, unreferenced: 0 });
    // Signing after the crash (key rotation signs every unsigned version) gives a signature the real minisign accepts.
    const socket = await socketTo(second);
    expect(await socket.job('signing.signAllVersions', { keyId: key.keyId })).toMatchObject({ status: 'succeeded', result: { signed: 1 } });
    expectMinisignAccepts(work, file, await socket.call<{ publicKey: string }>('signing.keys.export', { keyId: key.keyId }), (await second.call('GET', '/packages/signing-crash/1.0.0/signature', adminKey)).text);
    await second.stop();
  }, 90_000);

  it('during a migration: start-up dies, the database stays at the previous version, and the next start migrates it', async () => {
    const { data } = folders();
    const database = path.join(data, 'torsh-depot.sqlite');
    const old = openDatabase(database, migrations.slice(0, 10));
    old.prepare(`INSERT INTO users (id, name, email, active, created_at) VALUES ('admin', 'admin', '', 1, '2026-01-01T00:00:00Z')`).run();
    old.prepare(`INSERT INTO api_keys (id, label, key_hash, role, created_at, user_id, prefix) VALUES ('old-env', 'TORSH_DEPOT_ADMIN_KEY', ?, '', '2026-01-01T00:00:00Z', 'admin', 'tdk_')`).run(hashApiKey('an-admin-key-from-release-10'));
    old.close();

    await expect(startServeHost(data, { env: { TORSH_DEPOT_CRASH_AT: 'migration-11' } })).rejects.toThrow(/crash point migration-11/);
    const after = openDatabase(database, migrations.slice(0, 10));
    expect(after.prepare('SELECT MAX(version) AS version FROM schema_migrations').get()).toEqual({ version: 10 });
    expect(after.prepare(`SELECT name FROM pragma_table_info('api_keys') WHERE name = 'from_admin_env'`).get()).toBeUndefined();
    after.close();

    const host = await startServeHost(data, { adminKey: 'an-admin-key-from-release-10' });
    expect((await host.call('GET', '/whoami', 'an-admin-key-from-release-10')).body).toMatchObject({ user: { name: 'admin' } });
    await host.stop();
    const migrated = openDatabase(database, migrations);
    expect(migrated.prepare('SELECT MAX(version) AS version FROM schema_migrations').get()).toEqual({ version: migrations.at(-1)?.version });
    expect(migrated.prepare(`SELECT from_admin_env FROM api_keys WHERE id = 'old-env'`).get()).toEqual({ from_admin_env: 1 });
    migrated.close();
  }, 90_000);
});

describe('sign-on-publish', () => {
  it('writes a signature the real minisign -V verifies against the downloaded bytes', async () => {
    const { data, work } = folders();
    const file = await makeTestPackage(work, { name: 'minisigned', version: '2.1.0' });
    const host = await startServeHost(data);
    const socket = await socketTo(host);
    const key = await socket.call<{ keyId: string }>('signing.keys.generate', { label: 'Release' });
    expect(await socket.job('packages.publish', { source: { kind: 'path', path: file }, signWith: key.keyId })).toMatchObject({ status: 'succeeded' });
    const download = await fetch(`${host.api}/packages/minisigned/2.1.0/download`, { headers: { Authorization: `Bearer ${adminKey}` } });
    const downloaded = path.join(work, 'downloaded.torshpkg');
    writeFileSync(downloaded, Buffer.from(await download.arrayBuffer()));
    const fetched = await host.call('GET', '/packages/minisigned/2.1.0/signature', adminKey);
    expect(fetched.status).toBe(200);
    const signature = fetched.text;
    const publicKey = await socket.call<{ publicKey: string }>('signing.keys.export', { keyId: key.keyId });
    const output = expectMinisignAccepts(work, downloaded, publicKey, signature);
    expect(output).toMatch(/Trusted comment: .*minisigned/);
    // The same signature over other bytes is refused by minisign: the check above can fail.
    const tampered = path.join(work, 'tampered.torshpkg');
    const bytes = readFileSync(downloaded);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    writeFileSync(tampered, bytes);
    const refused = spawnSync('minisign', ['-V', '-H', '-m', tampered, '-p', path.join(work, 'key.pub'), '-x', path.join(work, 'file.minisig')], { encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    await host.stop();
  }, 90_000);
});

/** Runs `minisign -V` (prehashed) on `file` with the exported public key and the signature; returns its output. */
function expectMinisignAccepts(work: string, file: string, exported: { publicKey: string }, signature: string): string {
  writeFileSync(path.join(work, 'key.pub'), exported.publicKey);
  writeFileSync(path.join(work, 'file.minisig'), signature);
  const result = spawnSync('minisign', ['-V', '-H', '-m', file, '-p', path.join(work, 'key.pub'), '-x', path.join(work, 'file.minisig')], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}
