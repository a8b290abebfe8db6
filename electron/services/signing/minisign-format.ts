import { DepotError } from '../../../shared/errors';
import { formatKeyId, type SigningPublicKey } from './ed25519-keys';

/** minisign's algorithm tags: `Ed` (key, or legacy non-hashed signature), `ED` (signature over BLAKE2b-512 of the file). */
const keyAlgorithm = Buffer.from('Ed');
export const prehashedAlgorithm = Buffer.from('ED');
const legacyAlgorithm = Buffer.from('Ed');

const untrustedPrefix = 'untrusted comment: ';
const trustedPrefix = 'trusted comment: ';

/** A parsed minisign signature file. */
export interface MinisignSignature {
  untrustedComment: string;
  /** True for `ED` (pre-hashed with BLAKE2b-512), false for legacy `Ed` (signature over the raw file). */
  prehashed: boolean;
  keyId: Buffer;
  signature: Buffer;
  trustedComment: string;
  globalSignature: Buffer;
}

function invalid(what: string, detail: string): DepotError {
  return new DepotError('VALIDATION_FAILED', `Not a minisign ${what}: ${detail}.`, { reason: `bad-minisign-${what.replace(/\s+/g, '-')}` });
}

function decodeBase64Line(line: string | undefined, what: string): Buffer {
  const text = (line ?? '').trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw invalid(what, 'the key line is not base64');
  return Buffer.from(text, 'base64');
}

function lines(text: string): string[] {
  return text.replace(/\r\n/g, '\n').split('\n');
}

function commentLine(line: string | undefined, prefix: string, what: string): string {
  if (line === undefined || !line.startsWith(prefix)) throw invalid(what, `expected a line starting with "${prefix.trim()}"`);
  return line.slice(prefix.length);
}

export function encodePublicKey(key: SigningPublicKey): string {
  const body = Buffer.concat([keyAlgorithm, key.keyId, key.publicKey]).toString('base64');
  return `${untrustedPrefix}minisign public key ${formatKeyId(key.keyId)}\n${body}\n`;
}

/** Reads a minisign public key file, or just its base64 line (what `minisign -P` takes). */
export function decodePublicKey(text: string): SigningPublicKey {
  const all = lines(text.trim());
  const keyLine = all[0]?.startsWith(untrustedPrefix) ? all[1] : all[0];
  const bytes = decodeBase64Line(keyLine, 'public key');
  if (bytes.length !== 42 || !bytes.subarray(0, 2).equals(keyAlgorithm)) throw invalid('public key', 'expected "Ed", an 8-byte key id and a 32-byte Ed25519 key');
  return { keyId: Buffer.from(bytes.subarray(2, 10)), publicKey: Buffer.from(bytes.subarray(10, 42)) };
}

export function encodeSignature(signature: Omit<MinisignSignature, 'prehashed'>): string {
  if (/[\r\n]/.test(signature.trustedComment) || /[\r\n]/.test(signature.untrustedComment)) throw new DepotError('VALIDATION_FAILED', 'Comments must be single lines.');
  const body = Buffer.concat([prehashedAlgorithm, signature.keyId, signature.signature]).toString('base64');
  return `${untrustedPrefix}${signature.untrustedComment}\n${body}\n${trustedPrefix}${signature.trustedComment}\n${signature.globalSignature.toString('base64')}\n`;
}

export function decodeSignature(text: string): MinisignSignature {
  if (text.length > 64 * 1024) throw invalid('signature', 'the file is too large');
  const all = lines(text);
  const untrustedComment = commentLine(all[0], untrustedPrefix, 'signature');
  const bytes = decodeBase64Line(all[1], 'signature');
  if (bytes.length !== 74) throw invalid('signature', 'the signature line has the wrong length');
  const algorithm = bytes.subarray(0, 2);
  if (!algorithm.equals(prehashedAlgorithm) && !algorithm.equals(legacyAlgorithm)) throw invalid('signature', 'unknown signature algorithm');
  const trustedComment = commentLine(all[2], trustedPrefix, 'signature');
  const globalSignature = decodeBase64Line(all[3], 'signature');
  if (globalSignature.length !== 64) throw invalid('signature', 'the global signature has the wrong length');
  return {
    untrustedComment,
    prehashed: algorithm.equals(prehashedAlgorithm),
    keyId: Buffer.from(bytes.subarray(2, 10)),
    signature: Buffer.from(bytes.subarray(10, 74)),
    trustedComment,
    globalSignature,
  };
}
