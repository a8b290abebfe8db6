import type { VersionEncryption } from '../../../../shared/domain/encryption';

const algorithmLabels: Record<VersionEncryption['algorithm'], string> = { 'aes-256-gcm': 'AES-256-GCM', 'chacha20-poly1305': 'age' };

/** The lock shown on an encrypted version (lists, search, detail); nothing for a plain one. */
export function EncryptionBadge({ encryption, detailed = false }: { encryption: VersionEncryption | null | undefined; detailed?: boolean }) {
  if (!encryption) return null;
  const how = encryption.unlock === 'passphrase' ? 'passphrase' : 'age recipients';
  const label = `Encrypted (${algorithmLabels[encryption.algorithm]}, ${how})`;
  return (
    <span className="badge badge-encrypted" role="img" aria-label={label} title={label} data-testid="encryption-badge">
      <LockIcon />
      {detailed ? ` encrypted · ${algorithmLabels[encryption.algorithm]} · ${how}` : ''}
    </span>
  );
}

/** Drawn, not an emoji: headless and minimal systems often lack a glyph for 🔒. */
function LockIcon() {
  return (
    <svg className="lock-icon" width="10" height="12" viewBox="0 0 10 12" aria-hidden="true" focusable="false">
      <path d="M2.5 5V3.5a2.5 2.5 0 0 1 5 0V5" fill="none" stroke="currentColor" strokeWidth="1.4" />
      <rect x="1" y="5" width="8" height="6.5" rx="1.2" fill="currentColor" />
    </svg>
  );
}
