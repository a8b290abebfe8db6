import type { VersionEncryption } from '../../../../shared/domain/encryption';

const algorithmLabels: Record<VersionEncryption['algorithm'], string> = { 'aes-256-gcm': 'AES-256-GCM', 'chacha20-poly1305': 'age' };

/** The lock shown on an encrypted version (lists, search, detail); nothing for a plain one. */
export function EncryptionBadge({ encryption, detailed = false }: { encryption: VersionEncryption | null | undefined; detailed?: boolean }) {
  if (!encryption) return null;
  const how = encryption.unlock === 'passphrase' ? 'passphrase' : 'age recipients';
  const label = `Encrypted (${algorithmLabels[encryption.algorithm]}, ${how})`;
  return (
    <span className="badge badge-encrypted" role="img" aria-label={label} title={label} data-testid="encryption-badge">
      🔒{detailed ? ` encrypted · ${algorithmLabels[encryption.algorithm]} · ${how}` : ''}
    </span>
  );
}
