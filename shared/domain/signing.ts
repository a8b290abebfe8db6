import { z } from 'zod';

/** Per registry: `off` ignores signatures, `warn` reports a missing or bad one, `require` refuses the package. */
export const signaturePolicies = ['off', 'warn', 'require'] as const;
export const signaturePolicySchema = z.enum(signaturePolicies);
export type SignaturePolicy = z.infer<typeof signaturePolicySchema>;

/** minisign's key id: 16 upper-case hex digits. */
export const keyIdSchema = z.string().regex(/^[0-9A-F]{16}$/, 'a key id is 16 upper-case hex digits');

/** A signing key of this install (its secret half stays in the secret store). */
export const signingKeyViewSchema = z.object({
  keyId: z.string(),
  label: z.string(),
  /** The minisign public key file text. */
  publicKey: z.string(),
  createdAt: z.string(),
  retiredAt: z.string().nullable(),
});
export type SigningKeyView = z.infer<typeof signingKeyViewSchema>;

/** A publisher key this install trusts. */
export const trustedKeySchema = z.object({
  keyId: z.string(),
  label: z.string(),
  publicKey: z.string(),
  addedAt: z.string(),
  retiredAt: z.string().nullable(),
});
export type TrustedKeyView = z.infer<typeof trustedKeySchema>;
