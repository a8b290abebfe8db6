import { createReadStream, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createCoreBackupRoutes } from '../../../electron/host/backup-routes';
import { receiveUpload } from '../../../electron/services/registry/upload-receiver';
import type { JobRecord } from '../../../shared/domain/jobs';
import { makeTestPackage } from '../../support/packages';
import { makeTempDir } from '../../support/temp-dir';

const adminKey = 'backups-admin-key-0123456789abcdef';
let core: Core;
let host: RunningHost;
let base: string;
let temp: { dir: string; cleanup: () => void };
const keys = new Map<string, string>();

async function call(method: string, route: string, key: string | null, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

async function finished(jobId: string): Promise<{ job: JobRecord }> {
  for (;;) {
    const { body } = await call('GET', `/backups/jobs/${jobId}`, adminKey);
    const job = body.job as JobRecord;
    if (job.status !== 'queued' && job.status !== 'running') return { job };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  temp = makeTempDir();
  core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger });
  core.access.ensureAdminKey(adminKey);
  const context = core.access.localContext();
  const user = core.access.createUser(context, { name: 'scientist', email: 'scientist@example.com' });
  core.access.grantUserRole(context, user.id, 'data-scientist', '*');
  keys.set('data-scientist', core.access.createKey(context, { userId: user.id }).key);
  const file = await makeTestPackage(temp.dir, { name: 'acme/model', version: '1.0.0', files: { 'models/weights.pt': 200_000, 'config/model.yaml': 'layers: 4\n' } });
  await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'test' });
  process.env.H17_ROUTES_BACKUP_PASSPHRASE = 'routes passphrase';
  host = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [createCoreBackupRoutes(core)] });
  base = `${new URL(host.url).origin}/api/v1`;
}, 60_000);

afterAll(async () => {
  await host?.close();
  await core?.close();
  temp?.cleanup();
});

describe('/api/v1/backups', () => {
  it('needs ManageBackups (401 without a key, 403 without the permission; admin has it)', async () => {
    expect((await call('GET', '/backups/repositories', null)).status).toBe(401);
    expect((await call('GET', '/backups/repositories', keys.get('data-scientist')!)).status).toBe(403);
    expect((await call('POST', '/backups/repositories', keys.get('data-scientist')!, { id: 'x', repo: 'file:///tmp/x', passphrase: '${X}' })).status).toBe(403);
    expect((await call('GET', '/backups/recovery-points', keys.get('data-scientist')!)).status).toBe(403);
    expect((await call('GET', '/backups/repositories', adminKey)).body).toEqual({ repositories: [] });
  });

  it('adds a repository, runs a backup, lists and diffs snapshots, previews retention, verifies, restores, and keeps recovery points', async () => {
    const repoDir = path.join(temp.dir, 'repo');
    const inline = await call('POST', '/backups/repositories', adminKey, { id: 'local', repo: `file://${repoDir}`, passphrase: 'hunter2' });
    expect(inline).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const created = await call('POST', '/backups/repositories', adminKey, { id: 'local', repo: `file://${repoDir}`, passphrase: '${H17_ROUTES_BACKUP_PASSPHRASE}' });
    expect(created.status).toBe(201);
    expect((await call('POST', '/backups/repositories/local/init', adminKey, {})).status).toBe(201);
    expect((await call('POST', '/backups/repositories/local/init', adminKey, {})).body).toEqual({ created: false, repositoryId: 'local' });

    const first = await call('POST', '/backups/repositories/local/run', adminKey, { set: { kind: 'version', name: 'acme/model', version: '1.0.0' }, strategy: 'full' });
    expect(first.status).toBe(202);
    expect((await finished((first.body.job as JobRecord).id)).job).toMatchObject({ status: 'succeeded', kind: 'backup-backup' });
    const second = await call('POST', '/backups/repositories/local/run', adminKey, {});
    expect((await finished((second.body.job as JobRecord).id)).job.status).toBe('succeeded');
    const snapshots = (await call('GET', '/backups/repositories/local/snapshots', adminKey)).body.snapshots as Array<{ id: string; source: { kind: string }; stats: { logicalBytes: number; addedBytes: number } }>;
    expect(snapshots.map((snapshot) => snapshot.source.kind)).toEqual(['version', 'registry']);
    const diff = await call('GET', `/backups/repositories/local/diff?from=${snapshots[0]!.id}&to=${snapshots[1]!.id}`, adminKey);
    expect(diff.body).toMatchObject({ added: expect.arrayContaining(['torsh-depot.sqlite']), removed: expect.arrayContaining(['acme__model-1.0.0.torshpkg']) });
    expect((await call('GET', '/backups/repositories/local/stats', adminKey)).body).toMatchObject({ snapshots: 2 });

    const preview = await call('POST', '/backups/repositories/local/forget', adminKey, { keep: { last: 1 }, dryRun: true });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ dryRun: true });
    expect((await call('GET', '/backups/repositories/local/snapshots', adminKey)).body.snapshots).toHaveLength(2);

    const verify = await call('POST', '/backups/repositories/local/verify', adminKey, { readData: true });
    const verified = await finished((verify.body.job as JobRecord).id);
    expect(verified.job).toMatchObject({ status: 'succeeded', result: { ok: true } });

    const target = path.join(temp.dir, 'restored');
    const restore = await call('POST', '/backups/repositories/local/restore', adminKey, { snapshot: snapshots[0]!.id.slice(0, 12), target });
    expect((await finished((restore.body.job as JobRecord).id)).job.status).toBe('succeeded');
    expect(readdirSync(target).sort()).toEqual(['acme__model-1.0.0.registry.json', 'acme__model-1.0.0.torshpkg']);
    expect((await call('POST', '/backups/repositories/local/restore', adminKey, { snapshot: snapshots[0]!.id, target })).body).toMatchObject({ error: { reason: 'target-not-empty' } });

    const point = await call('POST', '/backups/recovery-points', adminKey, { repository: 'local', name: 'acme/model', version: '1.0.0', note: 'Before production deployment' });
    expect(point.status).toBe(202);
    const made = await finished((point.body.job as JobRecord).id);
    const pointId = (made.job.result as { id: string }).id;
    const listed = (await call('GET', '/backups/recovery-points', adminKey)).body.recoveryPoints as Array<{ id: string; note: string }>;
    expect(listed).toEqual([expect.objectContaining({ id: pointId, note: 'Before production deployment' })]);
    core.registry.setYanked('acme/model', '1.0.0', true);
    const back = await call('POST', `/backups/recovery-points/${pointId}/restore`, adminKey, {});
    expect((await finished((back.body.job as JobRecord).id)).job).toMatchObject({ status: 'succeeded', result: { yanked: false } });
    expect(core.registry.getVersion('acme/model', '1.0.0').yanked).toBe(false);
    expect((await call('POST', `/backups/recovery-points/${pointId}/release`, adminKey, {})).body).toMatchObject({ releasedAt: expect.any(String) });

    const runs = (await call('GET', '/backups/jobs?repository=local', adminKey)).body.runs as Array<{ kind: string; status: string }>;
    expect(runs.map((run) => run.kind)).toEqual(['recovery-restore', 'recovery-point', 'restore', 'verify', 'backup', 'backup']);
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true);
    expect((await call('DELETE', '/backups/repositories/local', adminKey)).body).toEqual({ removed: 'local' });
    expect((await call('GET', '/backups/repositories/nope/snapshots', adminKey)).status).toBe(404);
  });
});
