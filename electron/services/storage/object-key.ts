import { StorageError } from './storage-errors';

/** A bucket or container prefix as '' or 'a/b/' (always ending with one slash). */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed.split('/').some((segment) => segment === '..' || segment === '.')) throw new StorageError('InvalidConfig', `Invalid prefix "${prefix}"`);
  return trimmed ? `${trimmed}/` : '';
}

/** The object-store key of `key` under `prefix`; refuses keys that would climb out of the prefix. */
export function prefixedKey(prefix: string, key: string): string {
  if (key === '' || key.startsWith('/') || key.split('/').some((segment) => segment === '..' || segment === '.')) {
    throw new StorageError('InvalidConfig', `Invalid object key ${JSON.stringify(key.slice(0, 200))}`);
  }
  return prefix + key;
}
