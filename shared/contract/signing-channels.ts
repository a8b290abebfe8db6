import { z } from 'zod';
import { defineRequests } from './define';
import { jobRecordSchema } from '../domain/jobs';
import { keyIdSchema, signingKeyViewSchema, trustedKeySchema } from '../domain/signing';

const label = z.string().trim().min(1).max(100);

export const signingChannels = defineRequests({
  'signing.keys.list': { input: z.object({}).strict(), output: z.array(signingKeyViewSchema), summary: "This install's signing keys (public halves; secrets stay in the keychain)." },
  'signing.keys.generate': { input: z.object({ label }).strict(), output: signingKeyViewSchema, summary: 'Generate an Ed25519 signing key; it is trusted here at once.' },
  'signing.keys.export': { input: z.object({ keyId: keyIdSchema }).strict(), output: z.object({ publicKey: z.string() }), summary: 'The minisign public key file of one of our keys.' },
  'signing.keys.retire': { input: z.object({ keyId: keyIdSchema }).strict(), output: signingKeyViewSchema, summary: 'Retire one of our keys: it signs nothing more and no longer vouches.' },
  'signing.trust.list': { input: z.object({}).strict(), output: z.array(trustedKeySchema), summary: 'Publisher keys this install trusts.' },
  'signing.trust.add': {
    input: z.object({ publicKey: z.string().min(1).max(4096), label }).strict(),
    output: z.array(trustedKeySchema),
    summary: 'Trust a publisher key (minisign public key text).',
  },
  'signing.trust.retire': { input: z.object({ keyId: keyIdSchema }).strict(), output: z.array(trustedKeySchema), summary: 'Keep a trusted key listed, but it no longer vouches.' },
  'signing.trust.remove': { input: z.object({ keyId: keyIdSchema }).strict(), output: z.array(trustedKeySchema), summary: 'Forget a trusted key.' },
  'signing.signAllVersions': {
    input: z.object({ keyId: keyIdSchema, retireKeyId: keyIdSchema.nullable().default(null) }).strict(),
    output: jobRecordSchema,
    summary: 'Key rotation: sign every version of the local registry with a key (a job: progress, cancel), then retire the old key.',
  },
});
