import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createRegistryRoutes } from '../../../electron/host/registry-routes';
import { createCoreMirrorsRoutes } from '../../../electron/host/mirrors-routes';
import { receiveUpload } from '../../../electron/services/registry/upload-receiver';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import { encodePublicKey } from '../../../electron/services/signing/minisign-format';
import { encodeSecretKeyFile } from '../../../electron/services/signing/secret-key-file';
import { signFile } from '../../../electron/services/signing/file-signature';
import { fetchVerifiedMirrorIndex } from '../../../electron/services/mirrors/mirror-index';
import { mirrorIndexSchema, type MirrorIndex, type MirrorView } from '../../../shared/domain/mirrors';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';
import { cliBin, runCliProcess, assertBuilt } from '../../support/cli-process';
import { startNginx, type RunningNginx } from '../../support/nginx-server';
import { startS3rver } from '../../support/object-servers';

const adminKey = 'mirror-sync-admin-key-0123456789abcdef';
let core: Core;
let host: RunningHost;
let origin: string;
let work: string;
let cleanup: () => void;
let pair: SigningKeyPair;
let keyFile: string;
let pubFile: string;
const stops: Array<() => Promise<void>> = [];

async function publish(name: string, version: string, bytes = 4096): Promise<string> {
  const file = await makeTestPackage(work, { name, version, files: { 'models/weights.bin': bytes } });
  await core.registry.publishUpload(await receiveUpload(createReadStream(file), { tmpDir: core.tmpDir, maxBytes: 1 << 30 }), { publisher: 'test' });
  return file;
}

function sync(to: string, extra: string[] = [], registry = origin) {
  return runCliProcess(['mirror', 'sync', '--registry', registry, '--api-key', adminKey, '--to', to, '--key', keyFile, '--json', ...extra], { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }, 120_000);
}

function doneEvent(stdout: string): { copied: number; skipped: number; versions: number; serial: number; pruned: number } {
  const last = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(last) as { copied: number; skipped: number; versions: number; serial: number; pruned: number };
}

function readIndex(dir: string): MirrorIndex {
  return mirrorIndexSchema.parse(JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')));
}

function minisignVerify(dir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('minisign', ['-V', '-p', pubFile, '-m', path.join(dir, 'index.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  assertBuilt();
  const temp = makeTempDir();
  cleanup = temp.cleanup;
  work = path.join(temp.dir, 'work');
  core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger });
  core.access.ensureAdminKey(adminKey);
  host = await startHttpHost({
    core,
    host: '127.0.0.1',
    port: 0,
    staticDir: null,
    apiRoutes: [createCoreMirrorsRoutes(core), createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => 1 << 30, logger: silentLogger })],
  });
  origin = new URL(host.url).origin;
  core.registryEndpoint.set(origin);
  pair = generateSigningKeyPair();
  keyFile = path.join(temp.dir, 'mirror.key');
  pubFile = path.join(temp.dir, 'mirror.pub');
  writeFileSync(keyFile, await encodeSecretKeyFile(pair, null), { mode: 0o600 });
  writeFileSync(pubFile, encodePublicKey(pair));
  const signedFile = await publish('resnet', '1.0.0');
  await core.registry.putSignature('resnet', '1.0.0', await signFile(signedFile, pair), 'test', { id: null, mayReplaceAny: true });
  await publish('resnet', '1.1.0');
  await publish('vision/quokka', '0.1.0');
  core.registry.setYanked('resnet', '1.1.0', true);
}, 120_000);

afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await host?.close();
  await core?.close();
  cleanup?.();
});

async function served(root: string): Promise<RunningNginx> {
  const nginx = await startNginx({ root });
  stops.push(() => nginx.stop());
  return nginx;
}

describe('mirror sync', () => {
  it('syncs three nginx mirrors into folders: identical blobs, yanked kept and marked, index signed (minisign -V), incremental reruns', async () => {
    const dirs = ['a', 'b', 'c'].map((name) => path.join(work, `mirror-${name}`));
    for (const dir of dirs) {
      const result = await sync(pathToFileURL(dir).href);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(doneEvent(result.stdout)).toMatchObject({ copied: 3, skipped: 0, versions: 3, serial: await core.registryChanges.serial() });
      const verified = await minisignVerify(dir);
      expect(verified.output).toMatch(/Signature and comment signature verified/);
      expect(verified.code).toBe(0);
    }
    const index = readIndex(dirs[0]!);
    expect(index.versions.map((entry) => `${entry.name}@${entry.version}:${entry.yanked}:${entry.signature}`)).toEqual(['resnet@1.0.0:false:true', 'resnet@1.1.0:true:false', 'vision/quokka@0.1.0:false:false']);
    for (const entry of index.versions) {
      const bytes = readFileSync(path.join(dirs[0]!, entry.path));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256);
      expect(createHash('blake2b512').update(bytes).digest('hex')).toBe(entry.blake2b);
      expect(entry.sha256).toBe(core.registry.getVersion(entry.name, entry.version).digest.replace('sha256:', ''));
    }
    expect(existsSync(path.join(dirs[0]!, 'packages/resnet/1.0.0/resnet-1.0.0.torshpkg.minisig'))).toBe(true);
    expect(existsSync(path.join(dirs[0]!, 'packages/vision/quokka/0.1.0/quokka-0.1.0.torshpkg'))).toBe(true);
    expect(readFileSync(path.join(dirs[0]!, 'registry.pub'), 'utf8')).toBe(encodePublicKey(pair));

    // The mirrors, as nginx serves them, verify and check Healthy; a publish they lack makes them stale.
    const servers = await Promise.all(dirs.map(served));
    expect((await fetchVerifiedMirrorIndex(servers[1]!.url, [pair])).versions).toHaveLength(3);
    core.trust.trust(encodePublicKey(pair), 'mirror key');
    for (const [i, server] of servers.entries()) await core.mirrors.add({ id: `mirror-${i}`, url: server.url, priority: 1, weight: 100, capacity: 16, enabled: true });
    expect((await core.mirrors.check()).map((view: MirrorView) => view.health.status)).toEqual(['healthy', 'healthy', 'healthy']);
    await publish('resnet', '1.2.0');
    const stale = await core.mirrors.check('mirror-0');
    expect(stale[0]!.health).toMatchObject({ status: 'degraded', stalenessVersions: 1 });

    const again = await sync(pathToFileURL(dirs[0]!).href);
    expect(doneEvent(again.stdout)).toMatchObject({ copied: 1, skipped: 3, versions: 4 });
    expect((await core.mirrors.check('mirror-0'))[0]!.health).toMatchObject({ status: 'healthy', stalenessVersions: 0 });
    const unchanged = await sync(pathToFileURL(dirs[0]!).href);
    expect(doneEvent(unchanged.stdout)).toMatchObject({ copied: 0, skipped: 4 });
  }, 180_000);

  it('syncs to s3rver; the bucket serves a verified index and the blobs', async () => {
    const s3 = await startS3rver(['mirror-bucket']);
    stops.push(() => s3.stop());
    const result = await sync(`s3://mirror-bucket/torsh?endpoint=${s3.endpoint}&path_style=true&region=us-east-1`);
    expect(result.stderr).toBe('');
    expect(doneEvent(result.stdout).copied).toBeGreaterThanOrEqual(3);
    const index = await fetchVerifiedMirrorIndex(`${s3.endpoint}/mirror-bucket/torsh`, [pair]);
    const entry = index.versions.find((candidate) => candidate.name === 'vision/quokka')!;
    const blob = Buffer.from(await (await fetch(`${s3.endpoint}/mirror-bucket/torsh/${entry.path}`)).arrayBuffer());
    expect(createHash('sha256').update(blob).digest('hex')).toBe(entry.sha256);
  }, 120_000);

  it('a sync killed mid-way leaves the old index (never ahead of its blobs); the rerun completes; --prune removes what the registry dropped', async () => {
    const dir = path.join(work, 'mirror-killed');
    expect((await sync(pathToFileURL(dir).href)).code).toBe(0);
    const before = readIndex(dir);
    for (const version of ['2.0.0', '2.1.0', '2.2.0']) await publish('big-model', version, 3 * 1024 * 1024);
    // The registry behind a slow nginx, so the sync is surely mid-way when it dies.
    const slow = await startNginx({ root: work, limitRate: '2m', serverConfig: `location / { proxy_pass ${origin}; proxy_buffering on; }` });
    stops.push(() => slow.stop());
    const child = spawn(process.execPath, [cliBin, 'mirror', 'sync', '--registry', slow.url, '--api-key', adminKey, '--to', pathToFileURL(dir).href, '--key', keyFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killedAt = await new Promise<number>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (const line of buffer.split('\n').slice(0, -1)) {
          const event = JSON.parse(line) as { event: string; done?: number; total?: number };
          if (event.event === 'progress' && event.done! > 4 * 1024 * 1024 && event.done! < event.total!) {
            child.kill('SIGKILL');
            resolve(event.done!);
          }
        }
        buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
      });
      child.once('exit', () => reject(new Error('the sync finished before it could be killed')));
    });
    expect(killedAt).toBeGreaterThan(0);
    await new Promise((resolve) => child.once('exit', resolve));
    const during = readIndex(dir);
    expect(during.serial).toBe(before.serial);
    for (const entry of during.versions) expect(existsSync(path.join(dir, entry.path))).toBe(true);
    // Killed after more than one blob's worth: at least one is stored whole, and the index does not name it yet.
    const storedEarly = ['2.0.0', '2.1.0', '2.2.0'].filter((version) => existsSync(path.join(dir, `packages/big-model/${version}/big-model-${version}.torshpkg`)));
    expect(storedEarly.length).toBeGreaterThanOrEqual(1);
    expect(storedEarly.length).toBeLessThan(3);

    const rerun = await sync(pathToFileURL(dir).href);
    expect(rerun.code).toBe(0);
    const done = doneEvent(rerun.stdout);
    expect(done.skipped).toBe(before.versions.length + storedEarly.length);
    expect(done.copied).toBe(3 - storedEarly.length);
    const after = readIndex(dir);
    expect(after.serial).toBe(await core.registryChanges.serial());
    for (const entry of after.versions) expect(createHash('sha256').update(readFileSync(path.join(dir, entry.path))).digest('hex')).toBe(entry.sha256);
    expect((await minisignVerify(dir)).code).toBe(0);

    // A package made private is no longer the registry's to mirror: kept without --prune, removed with it.
    core.access.setPackageAccess(core.access.localContext(), 'big-model', { visibility: 'private' });
    const kept = await sync(pathToFileURL(dir).href);
    expect(doneEvent(kept.stdout).versions).toBe(after.versions.length);
    const pruned = await sync(pathToFileURL(dir).href, ['--prune']);
    expect(doneEvent(pruned.stdout)).toMatchObject({ versions: after.versions.length - 3, pruned: 3 });
    for (const version of ['2.0.0', '2.1.0', '2.2.0']) expect(existsSync(path.join(dir, `packages/big-model/${version}/big-model-${version}.torshpkg`))).toBe(false);
  }, 180_000);

  it('refuses bad input with clear errors: a non-http registry, a storage URL it cannot use, no key', async () => {
    const badRegistry = await runCliProcess(['mirror', 'sync', '--registry', 'ftp://example.com', '--to', pathToFileURL(path.join(work, 'x')).href, '--key', keyFile]);
    expect(badRegistry.code).toBe(1);
    expect(badRegistry.stderr).toMatch(/http:\/\/ or https:\/\//);
    const badTarget = await runCliProcess(['mirror', 'sync', '--registry', origin, '--to', 'ftp://example.com/x', '--key', keyFile]);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toMatch(/--to/);
    const noKey = await runCliProcess(['mirror', 'sync', '--registry', origin, '--to', pathToFileURL(path.join(work, 'x')).href]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--key FILE is required/);
  }, 60_000);
});
