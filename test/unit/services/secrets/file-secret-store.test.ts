import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FileSecretStore, type SecretCipher } from '../../../../electron/services/secrets/secret-store';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function secretsFile(): string {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  return path.join(temp.dir, 'secrets.json');
}

/** A reversible stand-in for the OS keychain: enough to prove values never hit the disk in clear. */
const reversingCipher: SecretCipher = {
  encrypt: (plain) => Buffer.from([...Buffer.from(plain, 'utf8')].reverse()),
  decrypt: (sealed) => Buffer.from([...sealed].reverse()).toString('utf8'),
};

describe('FileSecretStore', () => {
  it('writes a 0600 file and reads secrets back after a restart', async () => {
    const file = secretsFile();
    const store = new FileSecretStore(file);
    await store.set('s3.default.secret', 'hunter2');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const reopened = new FileSecretStore(file);
    expect(reopened.get('s3.default.secret')).toBe('hunter2');
    await reopened.delete('s3.default.secret');
    expect(new FileSecretStore(file).names()).toEqual([]);
  });

  it('tightens loosened permissions on open', async () => {
    const file = secretsFile();
    await new FileSecretStore(file).set('a', 'b');
    chmodSync(file, 0o644);
    new FileSecretStore(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('with a cipher, never stores the value in clear, and refuses to open sealed values without it', async () => {
    const file = secretsFile();
    await new FileSecretStore(file, reversingCipher).set('token', 'very-secret-value');
    expect(readFileSync(file, 'utf8')).not.toContain('very-secret-value');
    expect(new FileSecretStore(file, reversingCipher).get('token')).toBe('very-secret-value');
    expect(() => new FileSecretStore(file)).toThrow(/OS keychain/);
  });
});
