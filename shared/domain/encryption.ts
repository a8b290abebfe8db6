import { z } from 'zod';

export const encryptionAlgorithms = ['aes-256-gcm', 'chacha20-poly1305'] as const;
export type EncryptionAlgorithm = (typeof encryptionAlgorithms)[number];

/** How a published version is encrypted; `null` on plain versions. Nothing secret: it tells a downloader what to ask for. */
export const versionEncryptionSchema = z.object({
  algorithm: z.enum(encryptionAlgorithms),
  unlock: z.enum(['passphrase', 'recipients']),
});
export type VersionEncryption = z.infer<typeof versionEncryptionSchema>;

export const minPassphraseLength = 8;
const passphrase = z.string().min(minPassphraseLength, `a passphrase needs at least ${minPassphraseLength} characters`).max(1024);

/** An age X25519 recipient: `age1` + 58 bech32 characters (the checksum is verified in the core). */
export const ageRecipientPattern = /^age1[02-9ac-hj-np-z]{58}$/;

/** Encrypt on publish: a passphrase (either format) or age recipients (which imply chacha20-poly1305, age v1). */
export const publishEncryptionSchema = z.union([
  z.object({ algorithm: z.enum(encryptionAlgorithms).default('aes-256-gcm'), passphrase }).strict(),
  z
    .object({
      recipients: z
        .array(z.string().trim().toLowerCase().regex(ageRecipientPattern, 'an age recipient looks like age1… (62 characters)'))
        .min(1)
        .max(50),
    })
    .strict(),
]);
export type PublishEncryption = z.infer<typeof publishEncryptionSchema>;

/** Decrypt on download: the passphrase, or the text of an age identity file (`AGE-SECRET-KEY-1…` lines). */
export const exportDecryptionSchema = z.union([
  z.object({ passphrase: z.string().min(1).max(1024) }).strict(),
  z.object({ identity: z.string().min(1).max(64 * 1024) }).strict(),
]);
export type ExportDecryption = z.infer<typeof exportDecryptionSchema>;
