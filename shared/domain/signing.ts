import { z } from 'zod';

/** Per registry: `off` ignores signatures, `warn` reports a missing or bad one, `require` refuses the package. */
export const signaturePolicies = ['off', 'warn', 'require'] as const;
export const signaturePolicySchema = z.enum(signaturePolicies);
export type SignaturePolicy = z.infer<typeof signaturePolicySchema>;
