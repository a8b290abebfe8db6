import { z } from 'zod';
import { defineRequests } from './define';
import { signaturePolicySchema } from '../domain/signing';

export const registryViewSchema = z.object({
  id: z.string(),
  label: z.string(),
  url: z.string().nullable(),
  /** The embedded registry of this app; it cannot be removed. */
  builtIn: z.boolean(),
  hasApiKey: z.boolean(),
  isDefault: z.boolean(),
  signaturePolicy: signaturePolicySchema,
});
export type RegistryView = z.infer<typeof registryViewSchema>;

const registryId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -');

export const registriesChannels = defineRequests({
  'registries.list': { input: z.object({}).strict(), output: z.array(registryViewSchema), summary: 'Registries this app talks to, the embedded one first.' },
  'registries.save': {
    input: z
      .object({
        id: registryId,
        label: z.string().trim().min(1).max(100),
        url: z.string().max(2000),
        /** A new key (kept in the secret store), null to forget the key, absent to keep it. */
        apiKey: z.string().min(8).max(4096).nullable().optional(),
        /** Absent: keep the current policy (`off` for a new registry). */
        signaturePolicy: signaturePolicySchema.optional(),
      })
      .strict(),
    output: z.array(registryViewSchema),
    summary: 'Add or change a registry; its API key goes to the OS keychain or the 0600 secrets file.',
  },
  'registries.remove': { input: z.object({ id: registryId }).strict(), output: z.array(registryViewSchema), summary: 'Forget a registry and its key.' },
  'registries.setDefault': { input: z.object({ id: z.string() }).strict(), output: z.array(registryViewSchema), summary: 'Which registry the CLI-like actions use by default.' },
  'registries.test': {
    input: z.object({ id: z.string() }).strict(),
    output: z.object({ ok: z.boolean(), message: z.string() }),
    summary: 'Check that a registry answers (and its key is accepted).',
  },
});
