import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPackage } from '../../support/packages';
import { digestFileForSigning, signDigests } from '../../../electron/services/signing/file-signature';
import { generateSigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import { adminKey, partialUploadBytes, finish, serveWithScratch, storedBlobs, type ServeCall, type ServeTestHost } from './serve-test-host';

/**
 * Issue 13, items 4, 6, 11 and 12 through a real `torsh-depot serve`: hidden packages answer exactly like
 * missing ones, ManageOwners cannot make its holder an owner, publishing is re-authorized when the version
 * is recorded, and only a signature's uploader (or ManageSecurity) may replace it.
 */
let t: ServeTestHost;
let work: string;
const cleanups: Array<() => unknown> = [];
let secretFile = '';

beforeAll(async () => {
  ({ host: t, work } = await serveWithScratch(cleanups));
  secretFile = await makeTestPackage(work, { name: 'secret-model', version: '1.0.0' });
  expect((await putFile('secret-model', '1.0.0', secretFile, adminKey)).status).toBe(201);
  expect((await t.call('PATCH', '/packages/secret-model', adminKey, { visibility: 'private' })).status).toBe(200);
}, 60_000);

afterAll(() => finish(cleanups));

async function putFile(name: string, version: string, file: string, key: string | null, headers: Record<string, string> = {}): Promise<ServeCall> {
  const response = await fetch(`${t.api}/packages/${name}/${version}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', ...(key ? { Authorization: `Bearer ${key}` } : {}), ...headers },
    body: readFileSync(file),
  });
  const text = await response.text();
  return { status: response.status, text, body: text === '' ? null : (JSON.parse(text) as unknown), headers: response.headers };
}

describe('a package the caller may not see answers exactly like one that does not exist', () => {
  type Who = 'anonymous' | 'viewer' | 'engineer';
  const requests: Array<{ label: string; who: Who[]; run: (name: string, key: string | null) => Promise<ServeCall> }> = [
    { label: 'GET /packages/{name}', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('GET', `/packages/${name}`, key) },
    { label: 'GET /packages/{name}/{version}', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('GET', `/packages/${name}/1.0.0`, key) },
    { label: 'GET …/download', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('GET', `/packages/${name}/1.0.0/download`, key) },
    { label: 'HEAD …/download', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('HEAD', `/packages/${name}/1.0.0/download`, key) },
    { label: 'GET /resolve/{name}', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('GET', `/resolve/${name}?range=^1`, key) },
    { label: 'GET …/signature', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('GET', `/packages/${name}/1.0.0/signature`, key) },
    { label: 'PUT …/signature', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('PUT', `/packages/${name}/1.0.0/signature`, key, 'not a signature', { 'Content-Type': 'text/plain' }) },
    { label: 'POST …/yank', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('POST', `/packages/${name}/1.0.0/yank`, key) },
    { label: 'POST …/unyank', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('POST', `/packages/${name}/1.0.0/unyank`, key) },
    { label: 'PATCH /packages/{name} visibility', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('PATCH', `/packages/${name}`, key, { visibility: 'public' }) },
    { label: 'PATCH /packages/{name} owners', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('PATCH', `/packages/${name}`, key, { owners: [] }) },
    { label: 'DELETE /packages/{name}/{version}', who: ['anonymous', 'viewer', 'engineer'], run: (name, key) => t.call('DELETE', `/packages/${name}/1.0.0`, key) },
    // Publishing: whoever may create packages can create a missing one, so only those who may not are compared.
    { label: 'PUT /packages/{name}/{version}', who: ['anonymous', 'viewer'], run: (name, key) => t.call('PUT', `/packages/${name}/1.0.0`, key, 'not a package', { 'Content-Type': 'application/octet-stream' }) },
  ];

  it('same status and same body, for every method and principal (private and missing)', async () => {
    const keys: Record<Who, string | null> = { anonymous: null, viewer: (await t.user('peeker', ['viewer'])).key, engineer: (await t.user('builder', ['ml-engineer'])).key };
    const differences: string[] = [];
    let compared = 0;
    for (const request of requests) {
      for (const who of request.who) {
        const hidden = await request.run('secret-model', keys[who]);
        const missing = await request.run('absent-model', keys[who]);
        compared += 1;
        const hiddenBody = hidden.text.replaceAll('secret-model', '<name>');
        const missingBody = missing.text.replaceAll('absent-model', '<name>');
        if (hidden.status !== missing.status || hiddenBody !== missingBody) {
          differences.push(`${request.label} as ${who}: hidden ${hidden.status} ${hiddenBody} / missing ${missing.status} ${missingBody}`);
        }
        // Nothing about the hidden package leaks, whatever the answer.
        expect(hidden.status).toBeGreaterThanOrEqual(400);
      }
    }
    expect(differences).toEqual([]);
    expect(compared).toBe(requests.reduce((sum, request) => sum + request.who.length, 0));
    // The owner (admin) still sees it, and nothing above changed it.
    const version = await t.call('GET', '/packages/secret-model/1.0.0', adminKey);
    expect(version.status).toBe(200);
    expect(version.body).toMatchObject({ yanked: false });
    expect((await t.call('GET', '/packages/secret-model', adminKey)).body).toMatchObject({ versions: [{ version: '1.0.0', signature: 'unsigned' }] });
  }, 60_000);

  it('anonymous reads of an internal package are a 404 like a missing one (not a 401 that confirms it)', async () => {
    const file = await makeTestPackage(work, { name: 'team-only', version: '1.0.0' });
    expect((await putFile('team-only', '1.0.0', file, adminKey)).status).toBe(201);
    expect((await t.call('PATCH', '/packages/team-only', adminKey, { visibility: 'internal' })).status).toBe(200);
    const hidden = await t.call('GET', '/packages/team-only/1.0.0', null);
    const missing = await t.call('GET', '/packages/nobody-has-this/1.0.0', null);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual({ error: { code: 'NOT_FOUND', message: 'No package named team-only.', reason: 'not-found' } });
    expect(missing.body).toEqual({ error: { code: 'NOT_FOUND', message: 'No package named nobody-has-this.', reason: 'not-found' } });
  });
});

describe('ManageOwners does not escalate to visibility changes', () => {
  it('a non-owner holding ManageOwners may name others as owners, not itself, and may not change visibility', async () => {
    expect((await t.call('POST', '/roles', adminKey, { name: 'owner-manager', permissions: ['ViewMetadata', 'ManageOwners'] })).status).toBe(201);
    const mallory = await t.user('mallory', ['owner-manager', 'viewer']);
    const colleague = await t.user('colleague', ['viewer']);
    const file = await makeTestPackage(work, { name: 'guarded', version: '1.0.0' });
    expect((await putFile('guarded', '1.0.0', file, adminKey)).status).toBe(201);
    expect((await t.call('PATCH', '/packages/guarded', adminKey, { visibility: 'internal' })).status).toBe(200);

    const selfAdd = await t.call('PATCH', '/packages/guarded', mallory.key, { owners: [mallory.id] });
    expect(selfAdd.status).toBe(403);
    expect(selfAdd.body).toMatchObject({ error: { code: 'FORBIDDEN', reason: 'self-ownership' } });
    const publicize = await t.call('PATCH', '/packages/guarded', mallory.key, { visibility: 'public' });
    expect(publicize.status).toBe(403);
    expect(publicize.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const access = await t.call('GET', '/packages/guarded', adminKey);
    expect(access.status).toBe(200);
    // Naming someone else is what ManageOwners is for.
    const other = await t.call('PATCH', '/packages/guarded', mallory.key, { owners: [colleague.id] });
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ name: 'guarded', visibility: 'internal', owners: [colleague.id] });
    // An owner (with ManageOwners through ownership) may change visibility.
    const owned = await t.call('PATCH', '/packages/guarded', colleague.key, { visibility: 'private' });
    expect(owned.status).toBe(200);
    expect(owned.body).toMatchObject({ visibility: 'private' });
  });
});

describe('publishing is authorized again when the version is recorded', () => {
  it('a package made private during a long upload gains no version from a publisher who lost access', async () => {
    const engineer = await t.user('slow-publisher', ['ml-engineer']);
    const first = await makeTestPackage(work, { name: 'moving-target', version: '1.0.0' });
    expect((await putFile('moving-target', '1.0.0', first, adminKey)).status).toBe(201);
    expect((await t.call('PATCH', '/packages/moving-target', adminKey, { visibility: 'internal' })).status).toBe(200);
    const second = await makeTestPackage(work, { name: 'moving-target', version: '1.1.0', files: { 'models/weights.pt': 4 * 1024 * 1024 } });
    const bytes = readFileSync(second);
    const blobsBefore = storedBlobs(t.dataDir);

    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(`${t.api}/packages/moving-target/1.1.0`, { method: 'PUT', headers: { Authorization: `Bearer ${engineer.key}`, 'Content-Length': String(bytes.length) } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.write(bytes.subarray(0, 1024 * 1024));
      // The first half is in the host's temp file (the permission check before the upload passed) …
      void expect
        .poll(() => partialUploadBytes(t.dataDir), { timeout: 20_000, interval: 20 })
        .toBeGreaterThan(0)
        .then(async () => {
          // … then the package becomes private, and the rest arrives.
          expect((await t.call('PATCH', '/packages/moving-target', adminKey, { visibility: 'private' })).status).toBe(200);
          request.end(bytes.subarray(1024 * 1024));
        }, reject);
    });
    const { status, body } = await answer;
    expect(status).toBe(404);
    expect(JSON.parse(body)).toEqual({ error: { code: 'NOT_FOUND', message: 'No package named moving-target.', reason: 'not-found' } });
    const versions = await t.call('GET', '/packages/moving-target', adminKey);
    expect((versions.body as { versions: Array<{ version: string }> }).versions.map((entry) => entry.version)).toEqual(['1.0.0']);
    // The refused upload's blob did not stay behind.
    expect(storedBlobs(t.dataDir)).toEqual(blobsBefore);
  }, 60_000);
});

describe("a signature is its uploader's", () => {
  it("another publisher cannot replace a key's signature with garbage; its uploader and ManageSecurity can", async () => {
    const alice = await t.user('alice', ['ml-engineer']);
    const bob = await t.user('bob', ['ml-engineer']);
    const file = await makeTestPackage(work, { name: 'signed-thing', version: '1.0.0' });
    expect((await putFile('signed-thing', '1.0.0', file, alice.key)).status).toBe(201);
    expect((await t.call('PATCH', '/packages/signed-thing', adminKey, { visibility: 'public' })).status).toBe(200);
    const pair = generateSigningKeyPair();
    const valid = signDigests(pair, await digestFileForSigning(file), { name: 'signed-thing', version: '1.0.0' }, 'signed-thing-1.0.0.torshpkg');
    const put = (key: string, text: string): Promise<ServeCall> => t.call('PUT', '/packages/signed-thing/1.0.0/signature', key, text, { 'Content-Type': 'text/plain' });
    expect((await put(alice.key, valid)).status).toBe(200);

    // Same key id, same trusted comment, broken signature bytes: an untrusted key's signature is stored unchecked.
    const garbage = corruptSignature(valid);
    const replaced = await put(bob.key, garbage);
    expect(replaced.status).toBe(403);
    expect(replaced.body).toMatchObject({ error: { code: 'FORBIDDEN', reason: 'signature-owned' } });
    expect((await t.call('GET', '/packages/signed-thing/1.0.0/signature', null)).text).toBe(valid);

    // Its uploader may replace it, and so may a holder of ManageSecurity.
    expect((await put(alice.key, valid)).status).toBe(200);
    expect((await put(adminKey, garbage)).status).toBe(200);
    expect((await t.call('GET', '/packages/signed-thing/1.0.0/signature', null)).text).toBe(garbage);
    // Now the admin's: alice no longer may.
    expect((await put(alice.key, valid)).status).toBe(403);
  });
});

/** Flips a byte of the Ed25519 signature, keeping the algorithm and key id (line 2 of a minisign file). */
function corruptSignature(text: string): string {
  const lines = text.split('\n');
  const raw = Buffer.from(lines[1] ?? '', 'base64');
  raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 0xff;
  lines[1] = raw.toString('base64');
  return lines.join('\n');
}
