import { z } from 'zod';
import { signaturePolicySchema } from './signing';
import { storageSettingsSchema } from './storage';

/** A registry the app talks to. The API key is a secret: only its secret-store name is kept here. */
export const registryConfigSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  label: z.string().min(1).max(100),
  url: z.url({ protocol: /^https?$/ }),
  /** Name in the secret store holding the API key, if any. */
  apiKeySecret: z.string().max(200).nullable().default(null),
  /** What a download from this registry needs: a valid signature by a trusted key (`require`), or not. Absent: `off`. */
  signaturePolicy: signaturePolicySchema.optional(),
});
export type RegistryConfig = z.infer<typeof registryConfigSchema>;

/** Non-secret preferences. Secrets never live here: they go through the secret store. */
export const settingsSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  notifications: z.boolean().default(true),
  /** Finished jobs kept in history; older ones are pruned. */
  jobHistoryLimit: z.number().int().min(10).max(100_000).default(1_000),
  /** Extra registries; the embedded local registry is always there and is the default. */
  registries: z.array(registryConfigSchema).max(50).default([]),
  defaultRegistryId: z.string().default('local'),
  cache: z
    .object({
      maxBytes: z.number().int().min(0).default(20 * 1024 ** 3),
      /** Offline: answer from the cache only; never open a network connection. */
      offline: z.boolean().default(false),
    })
    .default({ maxBytes: 20 * 1024 ** 3, offline: false }),
  registry: z
    .object({
      /** Largest package the registry accepts. */
      maxPackageBytes: z.number().int().min(1).default(64 * 1024 ** 3),
      /** Hash blobs again while serving them; a mismatch aborts the transfer. */
      verifyOnRead: z.boolean().default(false),
      /** Desktop only: serve the embedded registry over HTTP on 127.0.0.1 (off by default). */
      serveFromDesktop: z.boolean().default(false),
      desktopPort: z.number().int().min(0).max(65_535).default(7879),
    })
    .default({ maxPackageBytes: 64 * 1024 ** 3, verifyOnRead: false, serveFromDesktop: false, desktopPort: 7879 }),
  metrics: z
    .object({
      /** Raw events are kept this long; per-minute rollups 30 days, per-hour a year. */
      rawRetentionHours: z.number().int().min(1).max(24 * 30).default(24),
      /** GET /metrics needs an API key allowed to view stats (it is always needed off loopback). */
      requireKeyForEndpoint: z.boolean().default(false),
      /** Alertmanager-compatible receiver for firing and resolved alerts; credentials in the URL are refused. */
      alertWebhookUrl: z
        .url({ protocol: /^https?$/ })
        .refine((url) => !/^[a-z]+:\/\/[^/]*@/i.test(url), 'put no credentials in the webhook URL')
        .nullable()
        .default(null),
    })
    .default({ rawRetentionHours: 24, requireKeyForEndpoint: false, alertWebhookUrl: null }),
  /** Storage backends (no secrets here) and where the registry keeps its blobs. */
  storage: storageSettingsSchema,
});
export type Settings = z.infer<typeof settingsSchema>;
export const settingsUpdateSchema = settingsSchema.partial().strict();
export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;
export const defaultSettings: Settings = settingsSchema.parse({});
