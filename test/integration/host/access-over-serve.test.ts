import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateSigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import { digestFileForSigning, signDigests } from '../../../electron/services/signing/file-signature';
import { stopAllServing } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { adminKey, startServeHost, type ServeHost } from './serve-host';

// Real processes on a shared 2-core machine: generous per-test limits (each test still waits for answers, never sleeps for them).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * The access matrix, extended (issue 13) and run against a real `torsh-depot serve` child:
 * signature PUT/GET, encrypted publish, percent-encoded and oddly cased names, cache headers per
 * visibility, and the session token in its `?token=` and cookie forms.
 */

type Who = 'anonymous' | 'bad-key' | 'viewer' | 'outsider' | 'writer' | 'owner' | 'admin';
type Visibility = 'public' | 'internal' | 'private';
const visibilities: Visibility[] = ['public', 'internal', 'private'];
const everyone: Who[] = ['anonymous', 'bad-key', 'viewer', 'outsider', 'writer', 'owner', 'admin'];

let t: ServeHost;
const keys = new Map<Who, string | null>();
const signer = generateSigningKeyPair();
const writerSigner = generateSigningKeyPair();
const packageFiles = new Map<Visibility, string>();

beforeAll(async () => {
  t = await startServeHost();
  keys.set('anonymous', null);
  keys.set('bad-key', 'tdk_never-issued-000000000000000000000000000');
  keys.set('admin', adminKey);
  let ownerId = '';
  // viewer: read everywhere; outsider: a user with no grant at all; writer: ml-engineer; owner: owns every package, no grant.
  for (const [who, role] of [['viewer', 'viewer'], ['outsider', null], ['writer', 'ml-engineer'], ['owner', null]] as const) {
    const user = await t.call('POST', '/users', adminKey, { name: who, email: `${who}@example.com` });
    expect(user.status).toBe(201);
    const id = (user.body as { id: string }).id;
    if (who === 'owner') ownerId = id;
    if (role) expect((await t.call('POST', `/users/${id}/grants`, adminKey, { role, scope: '*' })).status).toBe(201);
    keys.set(who, ((await t.call('POST', '/keys', adminKey, { user_id: id })).body as { key: string }).key);
  }
  for (const visibility of visibilities) {
    const name = `acl/${visibility}`;
    const published = await t.publish({ name, version: '1.0.0' });
    expect(published.status).toBe(201);
    packageFiles.set(visibility, published.file);
    expect((await t.call('PATCH', `/packages/${name}`, adminKey, { visibility, owners: [ownerId] })).status).toBe(200);
    const signature = await signatureFor(published.file, name, signer);
    expect((await putSignature(name, signature, adminKey)).status).toBe(200);
  }
}, 90_000);

afterAll(async () => {
  await t?.stop();
  await stopAllServing();
});

async function signatureFor(file: string, name: string, pair: ReturnType<typeof generateSigningKeyPair>): Promise<string> {
  return signDigests(pair, await digestFileForSigning(file), { name, version: '1.0.0' }, path.basename(file));
}

async function putSignature(name: string, text: string, key: string | null): Promise<{ status: number }> {
  const response = await fetch(`${t.api}/packages/${name}/1.0.0/signature`, { method: 'PUT', headers: { 'Content-Type': 'text/plain', ...(key ? { Authorization: `Bearer ${key}` } : {}) }, body: text });
  await response.arrayBuffer();
  return { status: response.status };
}

const sees = (who: Who, visibility: Visibility): boolean => visibility === 'public' || (visibility === 'internal' && who !== 'anonymous' && who !== 'bad-key') || (visibility === 'private' && (who === 'owner' || who === 'admin'));

/**
 * The status a caller gets from a package it can see. For one it cannot see, `missing` is the
 * status the same request gets for a package that does not exist: a hidden package must answer
 * exactly like a missing one (issue 13 item 4).
 */
function expected(who: Who, visibility: Visibility, kind: 'read' | 'write', missing: number): number[] {
  // A bad key is refused before anything else; after 20 of them in a minute the limiter answers 429 instead.
  if (who === 'bad-key') return [401, 429];
  if (!sees(who, visibility)) return [missing];
  if (kind === 'read') return [200];
  if (who === 'anonymous') return [401];
  return who === 'writer' || who === 'owner' || who === 'admin' ? [200] : [403];
}

describe('access matrix over serve: signatures', () => {
  it('GET …/signature answers like the version itself for every caller and visibility', async () => {
    const mismatches: string[] = [];
    for (const visibility of visibilities) {
      for (const who of everyone) {
        const answer = await t.call('GET', `/packages/acl/${visibility}/1.0.0/signature`, keys.get(who) ?? null);
        const missing = (await t.call('GET', '/packages/acl/missing/1.0.0/signature', keys.get(who) ?? null)).status;
        const allowed = expected(who, visibility, 'read', missing);
        if (!allowed.includes(answer.status)) mismatches.push(`GET signature ${who} ${visibility}: ${answer.status}, expected ${allowed.join('|')}`);
        if (answer.status === 200 && !String(answer.body).startsWith('untrusted comment:')) mismatches.push(`GET signature ${who} ${visibility}: not a minisign file`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('PUT …/signature: viewers and outsiders are refused (403, or 404 where they cannot see), publishers may add theirs', async () => {
    const mismatches: string[] = [];
    for (const visibility of visibilities) {
      const name = `acl/${visibility}`;
      const text = await signatureFor(packageFiles.get(visibility) ?? '', name, writerSigner);
      for (const who of ['anonymous', 'bad-key', 'viewer', 'outsider'] as const) {
        const { status } = await putSignature(name, text, keys.get(who) ?? null);
        const allowed = expected(who, visibility, 'write', (await putSignature('acl/missing', text, keys.get(who) ?? null)).status);
        if (!allowed.includes(status)) mismatches.push(`PUT signature ${who} ${visibility}: ${status}, expected ${allowed.join('|')}`);
      }
      // Nothing was stored by the refused callers: still exactly the admin's signature.
      const listed = await t.call('GET', `/packages/${name}/1.0.0`, adminKey);
      expect((listed.body as { signatures: unknown[] }).signatures).toHaveLength(1);
    }
    expect(mismatches).toEqual([]);
    const added = await putSignature('acl/internal', await signatureFor(packageFiles.get('internal') ?? '', 'acl/internal', writerSigner), keys.get('writer') ?? null);
    expect(added.status).toBe(200);
    expect(((await t.call('GET', '/packages/acl/internal/1.0.0', adminKey)).body as { signatures: unknown[] }).signatures).toHaveLength(2);
  });
});

describe('access matrix over serve: encrypted publish', () => {
  it('an age-encrypted upload (X-Torsh-Encrypted) needs UploadPackage like any publish; refused uploads store nothing', async () => {
    const identity = path.join(t.work, 'age-identity.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
    const plain = await makeTestPackage(t.work, { name: 'acl/sealed', version: '1.0.0' });
    const sealed = `${plain}.age`;
    execFileSync('age', ['-r', recipient, '-o', sealed, plain]);
    const bytes = readFileSync(sealed);
    const headers = { 'X-Torsh-Encrypted': '{}' };
    const statuses: Record<string, number> = {};
    for (const who of ['anonymous', 'bad-key', 'viewer', 'outsider'] as const) statuses[who] = (await t.put('acl/sealed', '1.0.0', bytes, keys.get(who) ?? null, headers)).status;
    expect(statuses).toMatchObject({ anonymous: 401, viewer: 403, outsider: 403 });
    expect([401, 429]).toContain(statuses['bad-key']);
    expect((await t.call('GET', '/packages/acl/sealed', adminKey)).status).toBe(404);
    const published = await t.put('acl/sealed', '1.0.0', bytes, keys.get('writer') ?? null, headers);
    expect(published.status).toBe(201);
    const metadata = await t.call('GET', '/packages/acl/sealed/1.0.0', keys.get('writer') ?? null);
    expect((metadata.body as { encryption: { unlock: string } }).encryption.unlock).toBe('recipients');
    // Publishing into a private package the writer cannot see: the same 404 as a package that does not exist.
    expect((await t.put('acl/private', '2.0.0', bytes, keys.get('writer') ?? null, headers)).status).toBe(404);
  });
});

describe('access matrix over serve: names spelled differently', () => {
  it('percent-encoded names reach the same package with the same rules', async () => {
    for (const visibility of visibilities) {
      for (const spelling of [`acl%2F${visibility}`, `%61cl/${visibility}`, `acl/%${visibility.charCodeAt(0).toString(16)}${visibility.slice(1)}`]) {
        for (const who of everyone) {
          const answer = await t.call('GET', `/packages/${spelling}/1.0.0/download`, keys.get(who) ?? null);
          const missing = (await t.call('GET', '/packages/acl/missing/1.0.0/download', keys.get(who) ?? null)).status;
          expect(expected(who, visibility, 'read', missing), `${who} GET ${spelling}`).toContain(answer.status);
        }
        // A viewer may not yank: 403 (the same as for a package that does not exist, where it cannot see it).
        expect((await t.call('POST', `/packages/${spelling}/1.0.0/yank`, keys.get('viewer') ?? null)).status).toBe(403);
      }
    }
  });

  it('oddly cased names never reach a package, and a hidden one answers like a missing one', async () => {
    for (const who of everyone) {
      const key = keys.get(who) ?? null;
      const missing = await t.call('GET', '/packages/ACL/Nothing-Here/1.0.0/download', key);
      for (const visibility of visibilities) {
        for (const spelling of [`ACL/${visibility}`, `acl/${visibility.toUpperCase()}`, `Acl%2F${visibility}`]) {
          const answer = await t.call('GET', `/packages/${spelling}/1.0.0/download`, key);
          expect(answer.status, `${who} GET ${spelling}`).not.toBe(200);
          if (who === 'bad-key') expect([401, 429]).toContain(answer.status);
          else expect(answer.status, `${who} GET ${spelling}`).toBe(missing.status);
        }
      }
    }
  });
});

describe('cache headers per visibility', () => {
  it('public downloads are shared-cacheable; internal and private ones are private and vary by credentials', async () => {
    for (const visibility of visibilities) {
      for (const method of ['GET', 'HEAD'] as const) {
        for (const range of [undefined, 'bytes=0-9']) {
          const answer = await fetch(`${t.api}/packages/acl/${visibility}/1.0.0/download`, { method, headers: { Authorization: `Bearer ${adminKey}`, ...(range ? { Range: range } : {}) } });
          await answer.arrayBuffer();
          expect(answer.status).toBe(range ? 206 : 200);
          const cacheControl = answer.headers.get('cache-control') ?? '';
          if (visibility === 'public') {
            expect(cacheControl).toBe('public, max-age=31536000, immutable');
          } else {
            expect(cacheControl).toMatch(/^private\b/);
            expect(cacheControl).not.toContain('public');
            expect(answer.headers.get('vary')).toBe('Authorization, Cookie');
          }
        }
      }
      const etag = (await fetch(`${t.api}/packages/acl/${visibility}/1.0.0/download`, { method: 'HEAD', headers: { Authorization: `Bearer ${adminKey}` } })).headers.get('etag') ?? '';
      const revalidated = await fetch(`${t.api}/packages/acl/${visibility}/1.0.0/download`, { headers: { Authorization: `Bearer ${adminKey}`, 'If-None-Match': etag } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers.get('cache-control')).toBe(visibility === 'public' ? 'public, max-age=31536000, immutable' : 'private, max-age=0, must-revalidate');
    }
    // Making a package public changes its downloads' headers at once.
    expect((await t.call('PATCH', '/packages/acl/internal', adminKey, { visibility: 'public' })).status).toBe(200);
    expect((await fetch(`${t.api}/packages/acl/internal/1.0.0/download`, { method: 'HEAD' })).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await t.call('PATCH', '/packages/acl/internal', adminKey, { visibility: 'internal' })).status).toBe(200);
  });
});

describe('the session token over HTTP', () => {
  it('?token= and the per-port cookie read as the local user; never for writes, never with a wrong or foreign-port token', async () => {
    const download = `${t.api}/packages/acl/private/1.0.0/download`;
    expect((await fetch(`${download}?token=${encodeURIComponent(t.token)}`)).status).toBe(200);
    expect((await fetch(`${download}?token=not-the-token`)).status).toBe(404);
    expect((await fetch(`${download}?token=`)).status).toBe(404);
    expect((await fetch(download, { headers: { Cookie: `torsh_depot_session_${t.port}=${encodeURIComponent(t.token)}` } })).status).toBe(200);
    // The cookie of another port's host, or the old unsuffixed name, is not this host's session.
    expect((await fetch(download, { headers: { Cookie: `torsh_depot_session_${t.port + 1}=${encodeURIComponent(t.token)}` } })).status).toBe(404);
    expect((await fetch(download, { headers: { Cookie: `torsh_depot_session=${encodeURIComponent(t.token)}` } })).status).toBe(404);
    // Writes need a key, whatever session the request carries.
    const hiddenYank = (await fetch(`${t.api}/packages/acl/private/1.0.0/yank?token=${encodeURIComponent(t.token)}`, { method: 'POST' })).status;
    expect(hiddenYank).toBe((await fetch(`${t.api}/packages/acl/missing/1.0.0/yank?token=${encodeURIComponent(t.token)}`, { method: 'POST' })).status);
    expect([401, 404]).toContain(hiddenYank);
    expect((await fetch(`${t.api}/packages/acl/public/1.0.0/yank?token=${encodeURIComponent(t.token)}`, { method: 'POST' })).status).toBe(401);
    expect((await t.call('GET', '/packages/acl/public/1.0.0', adminKey)).body).toMatchObject({ yanked: false });
    // The page itself sets the per-port cookie, HTTP-only and same-site.
    const page = await fetch(`${t.origin}/?token=${encodeURIComponent(t.token)}`);
    await page.arrayBuffer();
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toMatch(new RegExp(`^torsh_depot_session_${t.port}=[^;]+; HttpOnly; SameSite=Strict; Path=/$`));
  });
});
