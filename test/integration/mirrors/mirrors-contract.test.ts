import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Core } from '../../../electron/services/composition-root';
import { receiveUpload } from '../../../electron/services/registry/upload-receiver';
import { encodeSignedMirrorIndex } from '../../../electron/services/mirrors/mirror-index';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import type { MirrorIndex, MirrorView } from '../../../shared/domain/mirrors';
import { newTestCore } from '../../support/test-core';
import { makeTestPackage } from '../../support/packages';
import { startNginx, type RunningNginx } from '../../support/nginx-server';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Answer<T> = { ok: true; result: T } | { ok: false; error: { code: string; message: string; reason?: string } };
async function call<T>(core: Core, channel: string, input: unknown): Promise<Answer<T>> {
  return (await core.router.dispatch(channel as never, input as never, { origin: 'test' })) as Answer<T>;
}
async function ok<T>(core: Core, channel: string, input: unknown): Promise<T> {
  const answer = await call<T>(core, channel, input);
  if (!answer.ok) throw new Error(`${channel}: ${answer.error.code} ${answer.error.message}`);
  return answer.result;
}

async function publish(core: Core, work: string, name: string, version: string): Promise<void> {
  const file = await makeTestPackage(work, { name, version });
  await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'test' });
}

/** A mirror folder holding just a signed index at `serial` (sync is tested on its own). */
function writeIndex(dir: string, serial: number, pair: SigningKeyPair | null): void {
  mkdirSync(dir, { recursive: true });
  const index: MirrorIndex = { format: 'torsh-depot-mirror/1', serial, generated_at: new Date().toISOString(), registry: null, key_id: null, versions: [] };
  const signer = pair ?? generateSigningKeyPair();
  const { bytes, signature } = encodeSignedMirrorIndex(index, signer);
  writeFileSync(path.join(dir, 'index.json'), bytes);
  if (pair === null) rmSync(path.join(dir, 'index.json.minisig'), { force: true });
  else writeFileSync(path.join(dir, 'index.json.minisig'), signature);
}

async function served(root: string): Promise<RunningNginx> {
  const nginx = await startNginx({ root });
  cleanups.push(() => nginx.stop());
  return nginx;
}

describe('mirrors through the contract', () => {
  it('adds, lists, changes and removes mirrors, refusing bad input with typed errors and changing nothing', async () => {
    const { core } = newTestCore(cleanups);
    const added = await ok<MirrorView>(core, 'mirrors.add', { mirror: { id: 'mirror-us', url: 'https://us-mirror.example.com/torsh', region: 'us-east-1' } });
    expect(added.config).toMatchObject({ id: 'mirror-us', priority: 1, weight: 100, enabled: true, region: 'us-east-1' });
    expect(added.health.status).toBe('unknown');
    await ok(core, 'mirrors.add', { mirror: { id: 'mirror-eu', url: 'http://eu-mirror.example.com', priority: 2, weight: 50 } });

    for (const [mirror, reasonPattern] of [
      [{ id: 'ftp-one', url: 'ftp://mirror.example.com' }, /http:\/\/ or https:\/\//],
      [{ id: 'creds', url: 'https://user:secret@mirror.example.com' }, /no credentials/],
      [{ id: 'stats', url: 'https://mirror.example.com' }, /reserved/],
      [{ id: 'Bad_Id', url: 'https://mirror.example.com' }, /lowercase/],
      [{ id: 'extra', url: 'https://mirror.example.com', colour: 'red' }, /colour|unrecognized/i],
    ] as const) {
      const answer = await call(core, 'mirrors.add', { mirror });
      expect(answer.ok).toBe(false);
      if (!answer.ok) {
        expect(answer.error.code).toBe('VALIDATION_FAILED');
        expect(answer.error.message).toMatch(reasonPattern);
      }
    }
    const duplicate = await call(core, 'mirrors.add', { mirror: { id: 'mirror-us', url: 'https://other.example.com' } });
    expect(duplicate.ok === false && duplicate.error.code).toBe('CONFLICT');

    const changed = await ok<MirrorView>(core, 'mirrors.update', { id: 'mirror-us', changes: { priority: 5, region: null, sync_to: 'file:///srv/mirror' } });
    expect(changed.config).toMatchObject({ id: 'mirror-us', priority: 5, weight: 100, sync_to: 'file:///srv/mirror' });
    expect(changed.config.region).toBeUndefined();
    const badChange = await call(core, 'mirrors.update', { id: 'mirror-us', changes: { url: 'file:///etc/passwd' } });
    expect(badChange.ok === false && badChange.error.code).toBe('VALIDATION_FAILED');
    expect((await ok<MirrorView>(core, 'mirrors.get', { id: 'mirror-us' })).config.url).toBe('https://us-mirror.example.com/torsh');

    expect((await ok<MirrorView[]>(core, 'mirrors.list', {})).map((view) => view.config.id)).toEqual(['mirror-us', 'mirror-eu']);
    await ok(core, 'mirrors.remove', { id: 'mirror-us' });
    expect((await ok<MirrorView[]>(core, 'mirrors.list', {})).map((view) => view.config.id)).toEqual(['mirror-eu']);
    const missing = await call(core, 'mirrors.get', { id: 'mirror-us' });
    expect(missing.ok === false && missing.error.code).toBe('NOT_FOUND');
  });

  it('keeps the section settings as written (90s stays 90s through a get/set round trip) and checks trusted key entries', async () => {
    const { core, work } = newTestCore(cleanups);
    const defaults = await ok<Record<string, unknown>>(core, 'mirrors.section.get', {});
    expect(defaults).toMatchObject({ selection_strategy: 'priority', health_check_interval: '1m', failover: { stall_timeout: '10s', min_rate: '64KiB' } });
    const saved = await ok<Record<string, unknown>>(core, 'mirrors.section.set', { ...defaults, selection_strategy: 'geographic', health_check_interval: '90s', failover: { ...(defaults.failover as object), min_rate: '1MiB' } });
    expect(saved).toMatchObject({ selection_strategy: 'geographic', health_check_interval: '90s', failover: { min_rate: '1MiB' } });
    expect(await ok(core, 'mirrors.section.set', saved)).toEqual(saved);
    expect(await ok(core, 'mirrors.section.get', {})).toEqual(saved);

    const badKey = await call(core, 'mirrors.section.set', { ...saved, trusted_keys: [path.join(work, 'missing.pub')] });
    expect(badKey.ok === false && badKey.error.message).toMatch(/trusted_keys\.0/);
    const badDuration = await call(core, 'mirrors.section.set', { ...saved, health_check_interval: 'soon' });
    expect(badDuration.ok === false && badDuration.error.message).toMatch(/health_check_interval.*not a duration/);
    expect(await ok(core, 'mirrors.section.get', {})).toEqual(saved);
  });

  it('checks a mirror on nginx: Healthy with a verified index, Degraded and stale after an unsynced publish, Unhealthy after failures_to_down', async () => {
    const { core, work } = newTestCore(cleanups);
    const key = await core.keyring.generate('mirror index');
    const pair = core.keyring.pair(key.keyId);
    await publish(core, work, 'resnet', '1.0.0');
    const root = path.join(work, 'mirror');
    writeIndex(root, await core.registryChanges.serial(), pair);
    const nginx = await served(root);
    await ok(core, 'mirrors.section.set', { health: { failures_to_down: 2, successes_to_up: 2, timeout: '2s', degraded_latency: '2s' } });
    await ok(core, 'mirrors.add', { mirror: { id: 'local', url: nginx.url } });

    let [view] = await ok<MirrorView[]>(core, 'mirrors.check', { id: 'local' });
    expect(view!.health).toMatchObject({ status: 'healthy', stalenessVersions: 0, consecutiveSuccesses: 1 });
    expect(view!.health.latencyMs).toBeGreaterThan(0);
    expect(view!.latencyHistory).toHaveLength(1);

    await publish(core, work, 'resnet', '1.1.0');
    [view] = await ok<MirrorView[]>(core, 'mirrors.check', { id: 'local' });
    expect(view!.health).toMatchObject({ status: 'degraded', stalenessVersions: 1 });
    expect(view!.health.stalenessSeconds).toBeGreaterThanOrEqual(0);
    expect(view!.health.lastError).toMatch(/1 change\(s\) behind/);

    writeIndex(root, await core.registryChanges.serial(), pair);
    [view] = await ok<MirrorView[]>(core, 'mirrors.check', { id: 'local' });
    expect(view!.health).toMatchObject({ status: 'healthy', stalenessVersions: 0 });

    await nginx.stop();
    [view] = await ok<MirrorView[]>(core, 'mirrors.check', { id: 'local' });
    expect(view!.health.status).toBe('degraded');
    [view] = await ok<MirrorView[]>(core, 'mirrors.check', { id: 'local' });
    expect(view!.health.status).toBe('unhealthy');
    expect(view!.health.lastError).toMatch(/could not be reached/);

    const stats = await ok<{ total: number; healthy: number; registrySerial: number; mirrors: Array<{ id: string; status: string }> }>(core, 'mirrors.stats', {});
    expect(stats).toMatchObject({ total: 1, healthy: 0, registrySerial: 2, mirrors: [{ id: 'local', status: 'unhealthy' }] });
    const history = await ok<Array<{ ok: boolean; status: string }>>(core, 'mirrors.history', { id: 'local', limit: 10 });
    expect(history.map((entry) => entry.status)).toEqual(['healthy', 'degraded', 'healthy', 'degraded', 'unhealthy']);
  });

  it('a mirror whose index is unsigned or signed by an unknown key fails its check with the reason', async () => {
    const { core, work } = newTestCore(cleanups);
    await core.keyring.generate('host key');
    const unsignedRoot = path.join(work, 'unsigned');
    writeIndex(unsignedRoot, 0, null);
    const strangerRoot = path.join(work, 'stranger');
    writeIndex(strangerRoot, 0, generateSigningKeyPair());
    const unsigned = await served(unsignedRoot);
    const stranger = await served(strangerRoot);
    await ok(core, 'mirrors.add', { mirror: { id: 'unsigned', url: unsigned.url } });
    await ok(core, 'mirrors.add', { mirror: { id: 'stranger', url: stranger.url } });
    const views = await ok<MirrorView[]>(core, 'mirrors.check', {});
    const byId = new Map(views.map((view) => [view.config.id, view.health]));
    expect(byId.get('unsigned')!.lastError).toMatch(/no index\.json\.minisig/);
    expect(byId.get('stranger')!.lastError).toMatch(/not the given public key|nor a trusted one/);
    expect(byId.get('unsigned')!.consecutiveFailures).toBe(1);
  });

  it('mirrors.sync runs a job that writes each sync_to target and signs with the keyring key; mirrors.rank orders the set for a version', async () => {
    const { core, work } = newTestCore(cleanups);
    await publish(core, work, 'resnet', '1.0.0');
    const target = path.join(work, 'synced');
    await ok(core, 'mirrors.add', { mirror: { id: 'folder', url: 'http://127.0.0.1:9/', sync_to: pathToFileURL(target).href } });
    const noKey = await call(core, 'mirrors.sync', {});
    expect(noKey.ok === false && noKey.error).toMatchObject({ code: 'VALIDATION_FAILED', reason: 'no-signing-key' });
    const key = await core.keyring.generate('mirrors');
    const job = await ok<{ id: string }>(core, 'mirrors.sync', {});
    let record = await ok<{ status: string; result: unknown; error: unknown }>(core, 'jobs.get', { id: job.id });
    for (let i = 0; i < 200 && (record.status === 'queued' || record.status === 'running'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      record = await ok(core, 'jobs.get', { id: job.id });
    }
    expect(record.error).toBeNull();
    expect(record.status).toBe('succeeded');
    expect(record.result).toMatchObject([{ copied: 1, versions: 1, serial: 1 }]);
    const index = JSON.parse(readFileSync(path.join(target, 'index.json'), 'utf8')) as MirrorIndex;
    expect(index.key_id).toBe(key.keyId);
    expect(index.versions.map((entry) => entry.path)).toEqual(['packages/resnet/1.0.0/resnet-1.0.0.torshpkg']);

    // Served by nginx, the synced folder ranks first for a version it holds, and is skipped for one it lacks.
    const nginx = await served(target);
    await ok(core, 'mirrors.update', { id: 'folder', changes: { url: nginx.url } });
    await ok(core, 'mirrors.add', { mirror: { id: 'empty', url: 'http://127.0.0.1:9/', priority: 0 } });
    core.registryEndpoint.set('http://127.0.0.1:7878');
    const ranking = await ok<Array<{ id: string; place: number | null; eligible: boolean; reason: string }>>(core, 'mirrors.rank', { name: 'resnet', version: '1.0.0', strategy: 'priority' });
    expect(ranking.map((entry) => [entry.id, entry.place, entry.eligible])).toEqual([
      ['folder', 1, true],
      ['origin', 2, true],
      ['empty', null, false],
    ]);
    expect(ranking.find((entry) => entry.id === 'empty')!.reason).toMatch(/could not be reached|index/);
    const missing = await ok<Array<{ id: string; eligible: boolean; reason: string }>>(core, 'mirrors.rank', { name: 'resnet', version: '9.9.9' });
    expect(missing.find((entry) => entry.id === 'folder')).toMatchObject({ eligible: false });
  });
});
