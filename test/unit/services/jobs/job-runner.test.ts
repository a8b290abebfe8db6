import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createCore, type Core } from '../../../../electron/services/composition-root';
import { silentLogger } from '../../../../electron/services/logger';
import type { JobRecord } from '../../../../shared/domain/jobs';
import { DepotError } from '../../../../shared/errors';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newCore(dataDir?: string, maxConcurrentJobs = 2): Core {
  let dir = dataDir;
  if (!dir) {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    dir = temp.dir;
  }
  const core = createCore({ dataDir: dir, shell: 'headless', logger: silentLogger, maxConcurrentJobs });
  cleanups.push(() => core.close());
  return core;
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

describe('JobRunner', () => {
  it('reports progress as events, persists the result and notifies on success', async () => {
    const core = newCore();
    const updates: JobRecord[] = [];
    const notifications: string[] = [];
    core.events.subscribe((event, payload) => {
      if (event === 'jobs.updated') updates.push(payload as JobRecord);
      if (event === 'notification') notifications.push((payload as { title: string }).title);
    });
    const handle = core.jobs.start('test', 'Counting', { to: 3 }, async (context) => {
      for (let step = 1; step <= 3; step += 1) {
        context.reportProgress(step / 3, `step ${step}`);
        await new Promise((resolve) => setTimeout(resolve, 120));
      }
      return { counted: 3 };
    });
    await expect(handle.done).resolves.toEqual({ counted: 3 });
    const statuses = updates.map((update) => update.status);
    expect(statuses[0]).toBe('queued');
    expect(statuses).toContain('running');
    expect(statuses.at(-1)).toBe('succeeded');
    const progressValues = new Set(updates.filter((update) => update.status === 'running').map((update) => update.progress));
    expect(progressValues.size).toBeGreaterThanOrEqual(3);
    const stored = core.jobs.get(handle.record.id);
    expect(stored).toMatchObject({ status: 'succeeded', progress: 1, result: { counted: 3 }, error: null });
    expect(notifications).toEqual(['Counting finished']);
  });

  it('cancels a running job through its AbortSignal and records it as cancelled', async () => {
    const core = newCore();
    const handle = core.jobs.start('test', 'Forever', {}, (context) => untilAborted(context.signal));
    await new Promise((resolve) => setTimeout(resolve, 20));
    core.jobs.cancel(handle.record.id);
    await expect(handle.done).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(core.jobs.get(handle.record.id)).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
  });

  it('queues beyond the concurrency cap and cancels a queued job without running it', async () => {
    const core = newCore(undefined, 1);
    let secondRan = false;
    const first = core.jobs.start('test', 'First', {}, (context) => untilAborted(context.signal));
    const second = core.jobs.start('test', 'Second', {}, async () => {
      secondRan = true;
    });
    expect(core.jobs.get(second.record.id).status).toBe('queued');
    core.jobs.cancel(second.record.id);
    await expect(second.done).rejects.toMatchObject({ code: 'CANCELLED' });
    core.jobs.cancel(first.record.id);
    await expect(first.done).rejects.toBeInstanceOf(DepotError);
    expect(secondRan).toBe(false);
  });

  it('records failures with a typed envelope', async () => {
    const core = newCore();
    const handle = core.jobs.start('test', 'Broken', {}, async () => {
      throw new DepotError('UNAVAILABLE', 'upstream is down');
    });
    await expect(handle.done).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(core.jobs.get(handle.record.id)).toMatchObject({ status: 'failed', error: { code: 'UNAVAILABLE', message: 'upstream is down' } });
  });

  it('keeps history across a restart and marks jobs cut off by the shutdown as interrupted', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const first = createCore({ dataDir: temp.dir, shell: 'headless', logger: silentLogger });
    const done = first.jobs.start('test', 'Quick', {}, async () => 'ok');
    await done.done;
    // Simulate a crash: the row says running, the process is gone.
    first.db.prepare(`INSERT INTO jobs (id, kind, title, status, created_at) VALUES ('crashed', 'test', 'Crashed', 'running', ?)`).run(new Date().toISOString());
    first.db.close();
    // The crashed process's lock would be stale (its pid gone); here the test process itself held it.
    rmSync(path.join(temp.dir, 'torsh-depot.lock'));

    const second = newCore(temp.dir);
    const history = second.jobs.list(10);
    expect(history.map((job) => [job.title, job.status])).toEqual(expect.arrayContaining([
      ['Quick', 'succeeded'],
      ['Crashed', 'interrupted'],
    ]));
    expect(second.jobs.clearHistory()).toBe(2);
    expect(second.jobs.list(10)).toEqual([]);
  });

  it('runs the real data folder check: writes, reads back and measures', async () => {
    const core = newCore();
    const handle = core.startDataFolderCheck(8);
    const result = await handle.done;
    expect(result.databaseIntegrity).toBe('ok');
    expect(result.bytesTested).toBe(8 * 1024 * 1024);
    expect(result.writeBytesPerSecond).toBeGreaterThan(0);
    expect(result.readBytesPerSecond).toBeGreaterThan(0);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(core.tmpDir)).toEqual([]);
  });

  it('shutdown cancels running jobs and refuses new ones', async () => {
    const core = newCore();
    const handle = core.jobs.start('test', 'Long', {}, (context) => untilAborted(context.signal));
    await core.jobs.shutdown();
    await expect(handle.done).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(() => core.jobs.start('test', 'Late', {}, async () => undefined)).toThrow(/shutting down/);
  });
});
