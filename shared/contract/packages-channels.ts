import { z } from 'zod';
import { defineRequests } from './define';
import { jobRecordSchema } from '../domain/jobs';
import { keyIdSchema } from '../domain/signing';
import {
  folderInspectionSchema,
  folderSourceSchema,
  packageInspectionViewSchema,
  packageSourceSchema,
  packageVersionMetadataSchema,
  packageVersionsListingSchema,
  publishMetadataSchema,
  searchResultSchema,
  versionRowSchema,
} from '../domain/registry';
import { exportDecryptionSchema, publishEncryptionSchema } from '../domain/encryption';

const nameInput = z.string().min(1).max(214);
const versionInput = z.string().min(1).max(256);

export const packagesChannels = defineRequests({
  'packages.search': {
    input: z.object({ query: z.string().max(200).default(''), page: z.number().int().min(1).default(1), perPage: z.number().int().min(1).max(100).default(20) }).strict(),
    output: searchResultSchema,
    summary: 'Search packages by name, description and tags, ranked by relevance.',
  },
  'packages.listVersions': {
    input: z.object({ offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(500).default(100) }).strict(),
    output: z.object({ total: z.number().int(), rows: z.array(versionRowSchema) }),
    summary: 'Every published version, ordered by name then version (for the virtualized list).',
  },
  'packages.get': { input: z.object({ name: nameInput }).strict(), output: packageVersionsListingSchema, summary: 'A package and its versions, newest first.' },
  'packages.version': { input: z.object({ name: nameInput, version: versionInput }).strict(), output: packageVersionMetadataSchema, summary: 'One version in full.' },
  'packages.inspect': { input: z.object({ source: packageSourceSchema }).strict(), output: packageInspectionViewSchema, summary: 'Read and verify a dropped package before publishing it.' },
  'packages.publish': {
    input: z
      .object({ source: packageSourceSchema, metadata: publishMetadataSchema.default({}), signWith: keyIdSchema.nullable().default(null), encrypt: publishEncryptionSchema.optional() })
      .strict(),
    output: jobRecordSchema,
    summary: 'Publish a dropped package as a job (progress, cancel); `signWith` also signs it with that key of ours; `encrypt` encrypts it with a passphrase or to age recipients.',
  },
  'packages.createFolderUpload': {
    input: z.object({ folderName: z.string().min(1).max(255) }).strict(),
    output: z.object({ id: z.string() }),
    summary: 'Start receiving a dropped folder from the browser (its files are then PUT to /session/staging/folders/{id}/files).',
  },
  'packages.inspectFolder': { input: z.object({ source: folderSourceSchema }).strict(), output: folderInspectionSchema, summary: 'What packing a dropped folder would produce: files, types, sizes, a suggested name.' },
  'packages.packFolder': {
    input: z
      .object({
        source: folderSourceSchema,
        name: nameInput,
        version: versionInput,
        description: z.string().max(4000).nullable().default(null),
        author: z.string().max(200).nullable().default(null),
        license: z.string().max(100).nullable().default(null),
      })
      .strict(),
    output: jobRecordSchema,
    summary: 'Pack a dropped folder into a staged package, as a job (progress, cancel); its result is the staged package.',
  },
  'packages.discardFolder': { input: z.object({ id: z.string().regex(/^[0-9a-f]{32}$/) }).strict(), output: z.object({}), summary: 'Forget a folder upload that will not be packed.' },
  'packages.discardStaged': { input: z.object({ id: z.string().regex(/^[0-9a-f]{32}$/) }).strict(), output: z.object({}), summary: 'Forget an upload that will not be published.' },
  'packages.setYanked': {
    input: z.object({ name: nameInput, version: versionInput, yanked: z.boolean() }).strict(),
    output: packageVersionMetadataSchema,
    summary: 'Yank or unyank a version (yanked versions still download by exact version).',
  },
  'packages.exportVersion': {
    input: z.object({ name: nameInput, version: versionInput, directory: z.string().min(1).max(4096), decrypt: exportDecryptionSchema.optional() }).strict(),
    output: jobRecordSchema,
    summary: 'Save a version into a folder on this machine, as a job; an encrypted version is decrypted with `decrypt`, else saved as ciphertext.',
  },
  'packages.prepareDownload': {
    input: z.object({ name: nameInput, version: versionInput, decrypt: exportDecryptionSchema.optional() }).strict(),
    output: jobRecordSchema,
    summary: 'Save a version (decrypted with `decrypt`) on the host for this browser to fetch once from /session/exports/{downloadId}, as a job.',
  },
  'packages.registryInfo': {
    input: z.object({}).strict(),
    output: z.object({ httpBaseUrl: z.string().nullable() }),
    summary: 'Where the embedded registry is reachable over HTTP, if it is.',
  },
});
