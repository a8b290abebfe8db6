import { z } from 'zod';
import { defineRequests } from './define';
import { jobRecordSchema } from '../domain/jobs';
import {
  backupProgressSchema,
  backupRepositorySchema,
  backupRepositoryStatsSchema,
  backupRepositoryViewSchema,
  backupRunSchema,
  forgetRequestSchema,
  pruneRequestSchema,
  recoveryPointRequestSchema,
  recoveryPointSchema,
  restoreRequestSchema,
  retentionGroupSchema,
  runBackupRequestSchema,
  snapshotDiffSchema,
  snapshotSummarySchema,
  verifyRequestSchema,
} from '../domain/backup';

const repositoryId = backupRepositorySchema.shape.id;
const idInput = z.object({ id: repositoryId }).strict();
const snapshotId = z.string().regex(/^[0-9a-f]{4,64}$/);
const recoveryPointId = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) }).strict();

/** The Backups screen's channels; the same operations as `/api/v1/backups/…` and `torsh-depot backup …`. */
export const backupChannels = defineRequests({
  'backups.repositories.list': { input: z.object({}).strict(), output: z.array(backupRepositoryViewSchema), summary: 'Configured backup repositories with their schedules and next runs.' },
  'backups.repositories.save': { input: z.object({ repository: backupRepositorySchema }).strict(), output: backupRepositoryViewSchema, summary: 'Add or replace a repository (passphrase as ${ENV} or file: only; depot.yaml-owned ones are refused).' },
  'backups.repositories.remove': { input: idInput, output: z.object({}), summary: 'Forget a repository (its data stays where it is).' },
  'backups.repositories.init': { input: idInput, output: z.object({ created: z.boolean(), repositoryId: z.string() }), summary: 'Create the repository at its URL unless one is there.' },
  'backups.snapshots': { input: idInput, output: z.array(snapshotSummarySchema), summary: 'Snapshots, oldest first, each with logical and added bytes.' },
  'backups.stats': { input: idInput, output: backupRepositoryStatsSchema, summary: 'Logical, unique and stored bytes, and the dedup ratio.' },
  'backups.diff': { input: z.object({ id: repositoryId, from: snapshotId, to: snapshotId }).strict(), output: snapshotDiffSchema, summary: 'Files added, removed and changed between two snapshots.' },
  'backups.run': { input: z.object({ id: repositoryId, request: runBackupRequestSchema }).strict(), output: jobRecordSchema, summary: 'Back up now (the repository’s set and strategy unless given), as a job.' },
  'backups.verify': { input: z.object({ id: repositoryId, request: verifyRequestSchema }).strict(), output: jobRecordSchema, summary: 'Check structure, and read (part of) the data back, as a job.' },
  'backups.forget': {
    input: z.object({ id: repositoryId, request: forgetRequestSchema }).strict(),
    output: z.object({ dryRun: z.boolean(), groups: z.array(retentionGroupSchema), job: jobRecordSchema.nullable() }),
    summary: 'Apply a retention policy: a dry run answers what would go and why; otherwise a job.',
  },
  'backups.prune': { input: z.object({ id: repositoryId, request: pruneRequestSchema }).strict(), output: jobRecordSchema, summary: 'Repack and delete data no snapshot needs, as a job.' },
  'backups.restore': { input: z.object({ id: repositoryId, request: restoreRequestSchema }).strict(), output: jobRecordSchema, summary: 'Restore a snapshot into a new or empty folder on the host, as a job.' },
  'backups.restoreVersion': {
    input: z.object({ id: repositoryId, snapshot: snapshotId, name: z.string().min(1).max(214), version: z.string().min(1).max(128) }).strict(),
    output: jobRecordSchema,
    summary: 'Bring a version held by a snapshot back into the live registry (file, yank state, visibility, signatures).',
  },
  'backups.runs': { input: z.object({ id: repositoryId.nullable().default(null), limit: z.number().int().min(1).max(500).default(50) }).strict(), output: z.array(backupRunSchema), summary: 'Backup, verify, prune, restore runs, newest first, with live progress.' },
  'backups.progress': { input: z.object({ jobId: z.string().min(1).max(64) }).strict(), output: backupProgressSchema.nullable(), summary: 'Files, bytes read, bytes new and ETA of a running backup.' },
  'backups.recoveryPoints.list': { input: z.object({ includeReleased: z.boolean().default(false) }).strict(), output: z.array(recoveryPointSchema), summary: 'Recovery points, newest first.' },
  'backups.recoveryPoints.create': { input: recoveryPointRequestSchema, output: jobRecordSchema, summary: 'Snapshot one version, tagged and kept until released.' },
  'backups.recoveryPoints.release': { input: recoveryPointId, output: recoveryPointSchema, summary: 'Release a recovery point: retention may remove its snapshot from now on.' },
  'backups.recoveryPoints.restore': { input: recoveryPointId, output: jobRecordSchema, summary: 'Bring the version back to its state at the recovery point, as a job.' },
});
