import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../../electron/services/secrets/secret-store';
import { createDesktopSecretStore, SafeStorageCipher } from '../../../electron/shell/safe-storage-cipher';
import { makeTempDir } from '../../support/temp-dir';
import { createRecordingLogger, FakeSafeStorage } from './fake-electron';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function secretsFile(): string {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  return path.join(temp.dir, 'secrets.json');
}

describe('SafeStorageCipher', () => {
  it('round-trips through safeStorage, and the file never holds the plain text', async () => {
    const file = secretsFile();
    const safeStorage = new FakeSafeStorage();
    const store = new FileSecretStore(file, new SafeStorageCipher(safeStorage, 'linux'));
    await store.set('s3-key', 'very-secret-value');
    const onDisk = readFileSync(file, 'utf8');
    expect(onDisk).not.toContain('very-secret-value');
    expect(JSON.parse(onDisk)).toMatchObject({ encrypted: true });
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);

    const reopened = new FileSecretStore(file, new SafeStorageCipher(safeStorage, 'linux'));
    expect(reopened.get('s3-key')).toBe('very-secret-value');
  });

  it('refuses to work when encryption is unavailable', () => {
    const safeStorage = new FakeSafeStorage();
    safeStorage.available = false;
    expect(() => new SafeStorageCipher(safeStorage, 'darwin')).toThrow(/keychain is not available/);
  });

  it('refuses to seal once the keychain goes away, instead of writing plain text', async () => {
    const file = secretsFile();
    const safeStorage = new FakeSafeStorage();
    const store = new FileSecretStore(file, new SafeStorageCipher(safeStorage, 'darwin'));
    await store.set('a', 'one');
    safeStorage.available = false;
    await expect(store.set('b', 'two')).rejects.toThrow(/no longer available/);
    expect(readFileSync(file, 'utf8')).not.toContain('two');
  });

  it("treats Linux's basic_text backend (a hard-coded key) as unavailable", () => {
    const safeStorage = new FakeSafeStorage();
    safeStorage.backend = 'basic_text';
    expect(() => new SafeStorageCipher(safeStorage, 'linux')).toThrow(/hard-coded key/);
    expect(() => new SafeStorageCipher(safeStorage, 'win32')).not.toThrow();
  });
});

describe('createDesktopSecretStore', () => {
  it('seals with the OS keychain when it is available', async () => {
    const file = secretsFile();
    const logger = createRecordingLogger();
    const { store, sealed } = createDesktopSecretStore({ file, safeStorage: new FakeSafeStorage(), logger, platform: 'linux' });
    expect(sealed).toBe(true);
    await store.set('k', 'v');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ encrypted: true });
    expect(logger.lines).toEqual([]);
  });

  it('falls back explicitly to the 0600 file store, logging why', async () => {
    const file = secretsFile();
    const logger = createRecordingLogger();
    const safeStorage = new FakeSafeStorage();
    safeStorage.available = false;
    const { store, sealed } = createDesktopSecretStore({ file, safeStorage, logger, platform: 'linux' });
    expect(sealed).toBe(false);
    await store.set('k', 'v');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, encrypted: false, values: { k: 'v' } });
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(logger.lines).toEqual([expect.stringMatching(/^warn secrets are kept in a 0600 file .*keychain is not available/)]);
  });

  it('will not open (or overwrite) secrets sealed earlier once the keychain is gone', async () => {
    const file = secretsFile();
    const safeStorage = new FakeSafeStorage();
    await createDesktopSecretStore({ file, safeStorage, logger: createRecordingLogger(), platform: 'linux' }).store.set('k', 'v');
    safeStorage.available = false;
    expect(() => createDesktopSecretStore({ file, safeStorage, logger: createRecordingLogger(), platform: 'linux' })).toThrow(/sealed by the OS keychain, but the OS keychain is not available\. Unlock/);
  });
});
