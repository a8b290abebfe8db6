import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { DepotError } from '../../../shared/errors';
import { assertScryptParams, scryptKey, type ScryptParams } from './scrypt-kdf';
import { generateX25519Secret, x25519, x25519PublicOf, type AgeIdentity } from './x25519-keys';

/*
 * The age v1 header (https://age-encryption.org/v1): a version line, one stanza per recipient
 * (`-> type args…` then a base64 body wrapped at 64 columns, always ending with a short line), and
 * `--- ` + HMAC-SHA256 of everything up to `---` under a key derived from the file key.
 */
const versionLine = 'age-encryption.org/v1';
const scryptLabel = 'age-encryption.org/v1/scrypt';
const x25519Label = 'age-encryption.org/v1/X25519';
const maxHeaderBytes = 1024 * 1024;
/** age's own decryption limit for scrypt work factors is 22; ours is lower to keep memory bounded. */
const maxScryptLog2N = 20;
export const defaultAgeScryptLog2N = 18;

export type AgeRecipient = { kind: 'scrypt'; passphrase: string; log2N?: number } | { kind: 'x25519'; publicKey: Buffer };
export type AgeUnlock = { kind: 'passphrase'; passphrase: string } | { kind: 'identities'; identities: AgeIdentity[] };

export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

export function base64Raw(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

function decodeBase64Raw(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]*$/.test(text) || base64Raw(bytes) !== text) throw malformed(`${what} is not canonical unpadded base64`);
  return bytes;
}

function malformed(detail: string): DepotError {
  return new DepotError('VALIDATION_FAILED', `Not a valid age file: ${detail}.`, { reason: 'bad-age-header' });
}

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function wrap(key: Buffer, fileKey: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  return Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
}

function unwrap(key: Buffer, body: Buffer): Buffer | null {
  if (body.length !== 32) return null;
  const decipher = createDecipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  decipher.setAuthTag(body.subarray(16));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, 16)), decipher.final()]);
  } catch {
    return null;
  }
}

function headerMac(fileKey: Buffer, headerUpToDashes: Buffer): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(headerUpToDashes).digest();
}

export function payloadKey(fileKey: Buffer, nonce: Buffer): Buffer {
  return hkdf(fileKey, nonce, 'payload');
}

async function stanzaFor(recipient: AgeRecipient, fileKey: Buffer): Promise<Stanza> {
  if (recipient.kind === 'scrypt') {
    const log2N = recipient.log2N ?? defaultAgeScryptLog2N;
    const salt = randomBytes(16);
    const key = await scryptKey(recipient.passphrase, Buffer.concat([Buffer.from(scryptLabel), salt]), { log2N, r: 8, p: 1 });
    return { type: 'scrypt', args: [base64Raw(salt), String(log2N)], body: wrap(key, fileKey) };
  }
  const ephemeral = generateX25519Secret();
  const share = x25519PublicOf(ephemeral);
  const shared = x25519(ephemeral, recipient.publicKey);
  const key = hkdf(shared, Buffer.concat([share, recipient.publicKey]), x25519Label);
  return { type: 'X25519', args: [base64Raw(share)], body: wrap(key, fileKey) };
}

/** The whole header (through the MAC line) for a new file key. */
export async function buildAgeHeader(fileKey: Buffer, recipients: readonly AgeRecipient[]): Promise<Buffer> {
  if (recipients.length === 0) throw new DepotError('VALIDATION_FAILED', 'Give at least one recipient.', { reason: 'no-recipient' });
  if (recipients.some((recipient) => recipient.kind === 'scrypt') && recipients.length > 1) {
    throw new DepotError('VALIDATION_FAILED', 'A passphrase cannot be combined with other recipients (age allows a scrypt stanza only alone).', { reason: 'scrypt-not-alone' });
  }
  let text = `${versionLine}\n`;
  for (const recipient of recipients) {
    const stanza = await stanzaFor(recipient, fileKey);
    const body = base64Raw(stanza.body);
    text += `-> ${[stanza.type, ...stanza.args].join(' ')}\n`;
    for (let offset = 0; offset <= body.length; offset += 64) text += `${body.slice(offset, offset + 64)}\n`;
  }
  text += '---';
  return Buffer.from(`${text} ${base64Raw(headerMac(fileKey, Buffer.from(text)))}\n`);
}

export interface ParsedAgeHeader {
  stanzas: Stanza[];
  /** Header bytes up to and including `---`: what the MAC covers. */
  macInput: Buffer;
  mac: Buffer;
  /** Offset of the payload (its 16-byte nonce) in the file. */
  payloadOffset: number;
}

/** Where a header is read from: an open file, or anything with the same positional `read` (a buffer in memory). */
export interface AgeHeaderSource {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** Reads and parses the header at the start of an open file. */
export async function readAgeHeader(handle: AgeHeaderSource): Promise<ParsedAgeHeader> {
  const chunk = Buffer.alloc(16 * 1024);
  let collected = Buffer.alloc(0);
  let end = -1;
  while (end < 0) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, collected.length);
    if (bytesRead === 0) throw malformed(collected.length === 0 ? 'the file is empty' : 'the header never ends');
    collected = Buffer.concat([collected, chunk.subarray(0, bytesRead)]);
    if (!collected.subarray(0, Math.min(collected.length, versionLine.length)).equals(Buffer.from(versionLine).subarray(0, Math.min(collected.length, versionLine.length)))) {
      throw malformed(collected.toString('latin1', 0, 11) === '-----BEGIN ' ? 'ASCII-armored files are not supported (use age without -a)' : 'it does not start with "age-encryption.org/v1"');
    }
    const dashes = collected.indexOf('\n--- ');
    if (dashes >= 0) {
      const newline = collected.indexOf('\n', dashes + 5);
      if (newline >= 0) end = newline + 1;
    }
    if (end < 0 && collected.length > maxHeaderBytes) throw malformed('the header is larger than 1 MiB');
  }
  const header = collected.subarray(0, end).toString('latin1');
  const lines = header.slice(0, -1).split('\n');
  if (lines[0] !== versionLine) throw malformed('unsupported version line');
  const macLine = lines.at(-1) ?? '';
  const stanzas: Stanza[] = [];
  let index = 1;
  while (index < lines.length - 1) {
    const line = lines[index] ?? '';
    if (!line.startsWith('-> ')) throw malformed('a stanza does not start with "-> "');
    const [type, ...args] = line.slice(3).split(' ');
    if (!type || [type, ...args].some((arg) => arg === '' || /[^\x21-\x7e]/.test(arg))) throw malformed('a stanza has an empty or invalid argument');
    index += 1;
    let body = '';
    for (;;) {
      const bodyLine = lines[index];
      if (bodyLine === undefined || index >= lines.length - 1) throw malformed('a stanza body is not terminated by a short line');
      index += 1;
      if (bodyLine.length > 64) throw malformed('a stanza body line is longer than 64 columns');
      body += bodyLine;
      if (bodyLine.length < 64) break;
    }
    stanzas.push({ type, args, body: decodeBase64Raw(body, 'a stanza body') });
  }
  if (stanzas.length === 0) throw malformed('the header names no recipient');
  if (!macLine.startsWith('--- ')) throw malformed('the header does not end with a "--- " MAC line');
  const macText = macLine.slice(4);
  const mac = decodeBase64Raw(macText, 'the header MAC');
  if (mac.length !== 32) throw malformed('the header MAC has the wrong length');
  // Everything before the MAC line, plus its `---`.
  const macInput = collected.subarray(0, end - 1 - macLine.length + 3);
  return { stanzas, macInput: Buffer.from(macInput), mac, payloadOffset: end };
}

/** Finds the file key with a passphrase or identities, then checks the header MAC with it. */
export async function unlockAgeHeader(header: ParsedAgeHeader, unlock: AgeUnlock): Promise<Buffer> {
  const fileKey = unlock.kind === 'passphrase' ? await unlockScrypt(header.stanzas, unlock.passphrase) : unlockX25519(header.stanzas, unlock.identities);
  if (!timingSafeEqual(headerMac(fileKey, header.macInput), header.mac)) {
    throw new DepotError('DIGEST_MISMATCH', 'The encrypted file is damaged or was tampered with: the age header MAC does not match.', { reason: 'ciphertext-tampered' });
  }
  return fileKey;
}

async function unlockScrypt(stanzas: Stanza[], passphrase: string): Promise<Buffer> {
  const { stanza, salt, params } = scryptStanzaOf(stanzas);
  const key = await scryptKey(passphrase, Buffer.concat([Buffer.from(scryptLabel), salt]), params);
  const fileKey = unwrap(key, stanza.body);
  if (!fileKey) throw new DepotError('UNAUTHORIZED', 'Wrong passphrase (or the file is damaged).', { reason: 'bad-passphrase' });
  return fileKey;
}

/**
 * The passphrase stanza and its scrypt parameters, checked against the caps (publish refuses a header
 * a downloader could not afford to open; decrypt refuses it before deriving).
 */
export function scryptStanzaOf(stanzas: Stanza[]): { stanza: Stanza; salt: Buffer; params: ScryptParams } {
  const scryptStanzas = stanzas.filter((stanza) => stanza.type === 'scrypt');
  if (scryptStanzas.length === 0) throw new DepotError('VALIDATION_FAILED', 'This file is encrypted to public keys, not with a passphrase: use --identity.', { reason: 'no-passphrase-stanza' });
  if (stanzas.length > 1) throw malformed('a scrypt stanza must be the only one');
  const [stanza] = scryptStanzas;
  const [saltText, factorText] = stanza?.args ?? [];
  if (!stanza || stanza.args.length !== 2 || saltText === undefined || factorText === undefined || !/^[1-9]\d?$/.test(factorText)) throw malformed('bad scrypt stanza arguments');
  const salt = decodeBase64Raw(saltText, 'the scrypt salt');
  const log2N = Number(factorText);
  if (salt.length !== 16) throw malformed('the scrypt salt is not 16 bytes');
  if (log2N > maxScryptLog2N) throw new DepotError('VALIDATION_FAILED', `The scrypt work factor 2^${log2N} is above the limit of 2^${maxScryptLog2N}.`, { reason: 'bad-kdf-params' });
  const params: ScryptParams = { log2N, r: 8, p: 1 };
  assertScryptParams(params);
  return { stanza, salt, params };
}

function unlockX25519(stanzas: Stanza[], identities: AgeIdentity[]): Buffer {
  if (stanzas.some((stanza) => stanza.type === 'scrypt')) throw new DepotError('VALIDATION_FAILED', 'This file is encrypted with a passphrase: use --passphrase-file.', { reason: 'passphrase-file' });
  for (const stanza of stanzas) {
    if (stanza.type !== 'X25519') continue;
    const [shareText] = stanza.args;
    if (stanza.args.length !== 1 || shareText === undefined) throw malformed('bad X25519 stanza arguments');
    const share = decodeBase64Raw(shareText, 'an X25519 share');
    if (share.length !== 32 || stanza.body.length !== 32) throw malformed('bad X25519 stanza');
    for (const identity of identities) {
      const ownPublic = x25519PublicOf(identity.secret);
      const shared = x25519(identity.secret, share);
      const fileKey = unwrap(hkdf(shared, Buffer.concat([share, ownPublic]), x25519Label), stanza.body);
      if (fileKey) return fileKey;
    }
  }
  throw new DepotError('UNAUTHORIZED', 'None of the given identities can decrypt this file.', { reason: 'no-matching-identity' });
}
