import { existsSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic-write';

/** Secrets (credentials, private keys): never in SQLite or settings. */
export interface SecretStore {
  get(name: string): string | undefined;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
  names(): string[];
}

/** Encrypts values at rest; the desktop shell passes Electron safeStorage (OS keychain) here. */
export interface SecretCipher {
  encrypt(plain: string): Buffer;
  decrypt(sealed: Buffer): string;
}

/**
 * A 0600 JSON file of secrets. With a cipher each value is sealed by the OS keychain; without one
 * (headless host) the file permissions are the protection, as for ssh keys.
 */
export class FileSecretStore implements SecretStore {
  private readonly values = new Map<string, string>();

  constructor(
    private readonly file: string,
    private readonly cipher?: SecretCipher,
  ) {
    if (!existsSync(file)) return;
    if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
      // Tighten permissions someone loosened instead of refusing to start.
      chmodSync(file, 0o600);
    }
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; encrypted?: boolean; values?: Record<string, string> };
    if (stored.encrypted === true && !cipher) throw new Error(`Secrets in ${file} are sealed by the OS keychain; open them from the desktop app.`);
    for (const [name, value] of Object.entries(stored.values ?? {})) {
      this.values.set(name, stored.encrypted === true && cipher ? cipher.decrypt(Buffer.from(value, 'base64')) : value);
    }
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  names(): string[] {
    return [...this.values.keys()].sort();
  }

  async set(name: string, value: string): Promise<void> {
    const previous = this.values.get(name);
    this.values.set(name, value);
    try {
      await this.persist();
    } catch (error) {
      if (previous === undefined) this.values.delete(name);
      else this.values.set(name, previous);
      throw error;
    }
  }

  async delete(name: string): Promise<void> {
    const previous = this.values.get(name);
    if (previous === undefined) return;
    this.values.delete(name);
    try {
      await this.persist();
    } catch (error) {
      this.values.set(name, previous);
      throw error;
    }
  }

  private async persist(): Promise<void> {
    const values: Record<string, string> = {};
    for (const [name, value] of this.values) {
      values[name] = this.cipher ? this.cipher.encrypt(value).toString('base64') : value;
    }
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, encrypted: this.cipher !== undefined, values }), { mode: 0o600 });
  }
}
