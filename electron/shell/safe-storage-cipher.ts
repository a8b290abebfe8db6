import { readFileSync } from 'node:fs';
import { FileSecretStore, type SecretCipher, type SecretStore } from '../services/secrets/secret-store';
import type { Logger } from '../services/logger';
import type { SafeStorageLike } from './electron-surface';

/** Why OS-keychain encryption can't be used, or null when it can. */
export function safeStorageUnavailableReason(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): string | null {
  if (!safeStorage.isEncryptionAvailable()) return 'the OS keychain is not available';
  // On Linux without a keyring Electron "encrypts" with a hard-coded password: no better than 0600.
  if (platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') return 'no Linux keyring (safeStorage would use a hard-coded key)';
  return null;
}

/** Seals each secret with Electron safeStorage (Keychain, DPAPI, libsecret/KWallet). */
export class SafeStorageCipher implements SecretCipher {
  constructor(
    private readonly safeStorage: SafeStorageLike,
    platform: NodeJS.Platform = process.platform,
  ) {
    const reason = safeStorageUnavailableReason(safeStorage, platform);
    if (reason !== null) throw new Error(`Cannot seal secrets: ${reason}.`);
  }

  encrypt(plain: string): Buffer {
    // Availability can change at runtime (keyring locked): refuse rather than write plain text.
    if (!this.safeStorage.isEncryptionAvailable()) throw new Error('Cannot seal secrets: the OS keychain is no longer available.');
    return this.safeStorage.encryptString(plain);
  }

  decrypt(sealed: Buffer): string {
    if (!this.safeStorage.isEncryptionAvailable()) throw new Error('Cannot open sealed secrets: the OS keychain is not available.');
    return this.safeStorage.decryptString(sealed);
  }
}

export interface DesktopSecretStoreOptions {
  /** `secrets.json` in the data folder: the same file the headless host uses. */
  file: string;
  safeStorage: SafeStorageLike;
  logger: Logger;
  platform?: NodeJS.Platform;
}

/**
 * The desktop secret store: sealed by the OS keychain when it works, otherwise explicitly the
 * 0600-file store (the headless host's protection), with the reason logged. A file sealed earlier
 * can't be read without the keychain: start-up stops with a clear error rather than replace it.
 */
export function createDesktopSecretStore(options: DesktopSecretStoreOptions): { store: SecretStore; sealed: boolean } {
  const platform = options.platform ?? process.platform;
  const reason = safeStorageUnavailableReason(options.safeStorage, platform);
  if (reason !== null) {
    options.logger.warn(`secrets are kept in a 0600 file without OS-keychain sealing: ${reason}`);
    if (isSealedFile(options.file)) {
      throw new Error(`Saved secrets (${options.file}) are sealed by the OS keychain, but ${reason}. Unlock the keychain and start Torsh Depot again.`);
    }
    return { store: new FileSecretStore(options.file), sealed: false };
  }
  return { store: new FileSecretStore(options.file, new SafeStorageCipher(options.safeStorage, platform)), sealed: true };
}

function isSealedFile(file: string): boolean {
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { encrypted?: unknown };
    return stored.encrypted === true;
  } catch {
    // Missing or unreadable: FileSecretStore reports the real problem.
    return false;
  }
}
