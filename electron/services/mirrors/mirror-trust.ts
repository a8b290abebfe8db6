import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DepotError } from '../../../shared/errors';
import type { SigningPublicKey } from '../signing/ed25519-keys';
import { decodePublicKey } from '../signing/minisign-format';

/**
 * Reads one `trusted_keys` entry: a minisign public key (`RW…` line or whole `.pub` text) or the path of
 * a `.pub` file (relative paths from `baseDir`, the config file's folder). Throws VALIDATION_FAILED naming it.
 */
export function readTrustedKey(entry: string, baseDir: string): SigningPublicKey {
  const text = entry.trim();
  const inline = /^RW[A-Za-z0-9+/]+={0,2}$/.test(text) || text.startsWith('untrusted comment:');
  let keyText = text;
  if (!inline) {
    const file = path.resolve(baseDir, text);
    try {
      keyText = readFileSync(file, 'utf8');
    } catch (error) {
      throw new DepotError('VALIDATION_FAILED', `trusted key file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { reason: 'bad-trusted-key' });
    }
  }
  try {
    return decodePublicKey(keyText);
  } catch (error) {
    throw new DepotError('VALIDATION_FAILED', `trusted key "${text.slice(0, 80)}" is not a minisign public key: ${(error as Error).message}`, { reason: 'bad-trusted-key' });
  }
}

/** Every entry, or the first bad one as an error whose message names `trusted_keys.<index>`. */
export function readTrustedKeys(entries: readonly string[], baseDir: string): SigningPublicKey[] {
  return entries.map((entry, index) => {
    try {
      return readTrustedKey(entry, baseDir);
    } catch (error) {
      throw new DepotError('VALIDATION_FAILED', `trusted_keys.${index}: ${(error as Error).message}`, { reason: 'bad-trusted-key' });
    }
  });
}
