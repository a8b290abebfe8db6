import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSignedMirrorIndex, fetchVerifiedMirrorIndex, indexDigests } from '../../../electron/services/mirrors/mirror-index';
import { generateSigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import { signDigests } from '../../../electron/services/signing/file-signature';
import { mirrorBlobPath } from '../../../electron/services/mirrors/mirror-layout';
import type { MirrorIndex } from '../../../shared/domain/mirrors';

const key = generateSigningKeyPair();
const stranger = generateSigningKeyPair();
const entry = { name: 'resnet', version: '1.0.0', size: 10, sha256: 'a'.repeat(64), blake2b: null, yanked: false, signature: false, path: 'packages/resnet/1.0.0/resnet-1.0.0.torshpkg' };
const index: MirrorIndex = { format: 'torsh-depot-mirror/1', serial: 3, generated_at: '2026-12-02T12:00:00.000Z', registry: null, key_id: null, versions: [entry] };

/** A hostile mirror on 127.0.0.1: each case answers index.json and its signature its own way. */
const cases: Record<string, { index?: Buffer | 'huge'; signature?: string | null }> = {};
function signed(bytes: Buffer, by = key): string {
  return signDigests(by, indexDigests(bytes), null, 'index.json');
}
let server: Server;
let base: string;

beforeAll(async () => {
  const good = encodeSignedMirrorIndex(index, key);
  cases.good = { index: good.bytes, signature: good.signature };
  cases.unsigned = { index: good.bytes, signature: null };
  cases.stranger = { index: good.bytes, signature: encodeSignedMirrorIndex(index, stranger).signature };
  cases.tampered = { index: Buffer.from(good.bytes.toString().replace('"serial": 3', '"serial": 9')), signature: good.signature };
  const malformed = Buffer.from('{"format": "torsh-depot-mirror/1", "serial": ');
  cases.malformed = { index: malformed, signature: signed(malformed) };
  const escaping = Buffer.from(JSON.stringify({ ...index, versions: [{ ...entry, path: 'packages/resnet/1.0.0/../../../../etc/passwd' }] }));
  cases.escaping = { index: escaping, signature: signed(escaping) };
  const dotted = Buffer.from(JSON.stringify({ ...index, versions: [{ ...entry, version: '../1.0.0', path: 'packages/resnet/../1.0.0/resnet-../1.0.0.torshpkg' }] }));
  cases.dotted = { index: dotted, signature: signed(dotted) };
  cases.huge = { index: 'huge', signature: good.signature };
  server = createServer((request, response) => {
    const [, name, file] = (request.url ?? '').split('/');
    const spec = cases[name ?? ''];
    if (!spec) return void response.writeHead(404).end();
    if (file === 'index.json') {
      // Announces 10 GB: refused from the header, before a byte of body is read.
      if (spec.index === 'huge') return void response.writeHead(200, { 'Content-Length': String(10 * 1024 ** 3) }).end();
      return void response.writeHead(200, { 'Content-Type': 'application/json' }).end(spec.index);
    }
    if (file === 'index.json.minisig' && spec.signature) return void response.writeHead(200).end(spec.signature);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('fetchVerifiedMirrorIndex', () => {
  it('returns the index only when its signature verifies with a trusted key', async () => {
    expect((await fetchVerifiedMirrorIndex(`${base}/good`, [key])).serial).toBe(3);
  });

  it.each([
    ['unsigned', 'FORBIDDEN', 'mirror-index-unsigned'],
    ['stranger', 'FORBIDDEN', 'mirror-index-unknown-key'],
    ['tampered', 'FORBIDDEN', 'mirror-index-bad-signature'],
    ['malformed', 'VALIDATION_FAILED', 'mirror-index-malformed'],
    ['escaping', 'VALIDATION_FAILED', 'mirror-index-unsafe-path'],
    ['dotted', 'VALIDATION_FAILED', 'mirror-index-unsafe-path'],
    ['huge', 'PAYLOAD_TOO_LARGE', 'mirror-index-too-large'],
    ['missing', 'UNAVAILABLE', 'mirror-index-unreachable'],
  ])('refuses a %s index with a typed error', async (name, code, reason) => {
    await expect(fetchVerifiedMirrorIndex(`${base}/${name}`, [key], { timeoutMs: 5_000 })).rejects.toMatchObject({ code, reason });
  });

  it('refuses to trust anything without a trusted key, and layout paths never leave packages/', async () => {
    await expect(fetchVerifiedMirrorIndex(`${base}/good`, [])).rejects.toMatchObject({ reason: 'mirror-index-no-trusted-keys' });
    expect(mirrorBlobPath('vision/quokka', '0.1.0')).toBe('packages/vision/quokka/0.1.0/quokka-0.1.0.torshpkg');
    expect(() => mirrorBlobPath('resnet', '../../etc')).toThrow(expect.objectContaining({ reason: 'unsafe-path' }));
    expect(() => mirrorBlobPath('../etc', '1.0.0')).toThrow(expect.objectContaining({ reason: 'unsafe-path' }));
  });
});
