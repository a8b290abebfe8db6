import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { failoverConfigSchema, type FailoverConfig } from '../../../shared/domain/mirrors';
import type { DownloadSource, MirrorDownloadEvent } from '../../../electron/services/mirrors/download/download-types';
import { downloadFromSources } from '../../../electron/services/mirrors/download/multi-source-download';
import { startNginx, type RunningNginx as NginxServer } from '../../support/nginx-server';
import { makeTempDir } from '../../support/temp-dir';

const blobPath = 'packages/demo/1.0.0/demo-1.0.0.torshpkg';
const size = 6 * 1024 * 1024 + 12_345;
let blob: Buffer;
let sha256: string;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => {
  blob = randomBytes(size);
  sha256 = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
});

function tempDir(): string {
  const temp = makeTempDir('torsh-depot-mirror-dl-');
  cleanups.push(temp.cleanup);
  return temp.dir;
}

async function nginxMirror(limitRate?: string, content: Buffer = blob): Promise<NginxServer> {
  const root = path.join(tempDir(), 'www');
  mkdirSync(path.join(root, path.dirname(blobPath)), { recursive: true });
  writeFileSync(path.join(root, blobPath), content);
  const server = await startNginx({ root, limitRate });
  cleanups.push(() => server.stop());
  return server;
}

type Behaviour = 'stall-half' | 'flip-byte';

/** A mirror written for the test: honours Range like nginx, then misbehaves as told. */
async function testMirror(behaviour: Behaviour): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((request, response) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    requests.push(request.headers.range ?? 'none');
    const first = range ? Number(range[1]) : 0;
    const last = range && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
    const body = Buffer.from(blob.subarray(first, last + 1));
    const headers = { 'Content-Length': String(body.length), ETag: '"test-etag"', 'Accept-Ranges': 'bytes' };
    if (range) response.writeHead(206, { ...headers, 'Content-Range': `bytes ${first}-${last}/${size}` });
    else response.writeHead(200, headers);
    if (behaviour === 'flip-byte') {
      const middle = Math.floor(body.length / 2);
      body[middle] = (body[middle] ?? 0) ^ 0xff;
      response.end(body);
    } else {
      // Half the body, then silence with the connection left open.
      response.write(body.subarray(0, Math.floor(body.length / 2)));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${blobPath}`, requests };
}

function failover(overrides: Partial<Record<keyof FailoverConfig, string | number | boolean>> = {}): FailoverConfig {
  return failoverConfigSchema.parse({ max_retries: 2, retry_delay: '50ms', stall_timeout: '3s', min_rate: '1KiB', ...overrides });
}

function source(id: string, url: string): DownloadSource {
  return { id, url: url.endsWith('.torshpkg') ? url : `${url}/${blobPath}` };
}

describe('downloadFromSources', () => {
  it('fetches segments from three nginx mirrors at once, the throttled one carrying least, and verifies the bytes', async () => {
    const [fast1, fast2, slow] = await Promise.all([nginxMirror(), nginxMirror(), nginxMirror('256k')]);
    const dest = path.join(tempDir(), 'out', 'demo.torshpkg');
    const events: MirrorDownloadEvent[] = [];
    const result = await downloadFromSources([source('slow', slow.url), source('a', fast1.url), source('b', fast2.url)], dest, {
      expected: { sha256, size },
      failover: failover(),
      segmentBytes: 512 * 1024,
      progressIntervalMs: 20,
      onEvent: (event) => events.push(event),
    });
    expect(readFileSync(dest).equals(blob)).toBe(true);
    expect(existsSync(`${dest}.partial`)).toBe(false);
    expect(events.filter((event) => event.type === 'failover')).toEqual([]);
    expect(result).toMatchObject({ digest: sha256, size, failovers: 0, badMirrors: [] });
    const bytes = Object.fromEntries(result.mirrors.map((usage) => [usage.id, usage.bytes]));
    expect((bytes.a ?? 0) + (bytes.b ?? 0) + (bytes.slow ?? 0)).toBe(size);
    expect(bytes.slow ?? 0).toBeGreaterThan(0);
    expect(bytes.slow ?? 0).toBeLessThan(Math.min(bytes.a ?? 0, bytes.b ?? 0));
    // Every mirror got range requests.
    for (const server of [fast1, fast2, slow]) expect(server.readAccessLog().trim().split('\n').every((line) => /" 206 \d+ "bytes=\d+-\d+"$/.test(line))).toBe(true);
    const progress = events.filter((event) => event.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: 'done' });
  });

  it('resumes a stalled transfer with Range on another mirror, and a corrupting mirror is marked bad', async () => {
    const [stalling, flipping, good] = await Promise.all([testMirror('stall-half'), testMirror('flip-byte'), nginxMirror('4m')]);
    const dest = path.join(tempDir(), 'demo.torshpkg');
    const events: MirrorDownloadEvent[] = [];
    const result = await downloadFromSources([source('stalls', stalling.url), source('flips', flipping.url), source('good', good.url)], dest, {
      expected: { sha256, size },
      failover: failover({ max_retries: 1, stall_timeout: '800ms' }),
      segmentBytes: 1024 * 1024,
      onEvent: (event) => events.push(event),
    });
    expect(readFileSync(dest).equals(blob)).toBe(true);
    expect(result.badMirrors).toEqual(['flips']);
    expect(result.failovers).toBeGreaterThanOrEqual(1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'failover', mirror: 'stalls', reason: expect.stringMatching(/^stalled: /) }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'mirror-bad', mirror: 'flips' }));
    // The stalled range was resumed from where it stopped, not from its segment's start.
    const stalledAt = events.filter((event): event is Extract<MirrorDownloadEvent, { type: 'failover' }> => event.type === 'failover' && event.mirror === 'stalls').map((event) => event.offset);
    const resumed = [...good.readAccessLog().trim().split('\n'), ...flipping.requests].map((line) => Number(/bytes=(\d+)-\d+"?$/.exec(line)?.[1] ?? -1));
    expect(stalledAt.some((offset) => offset % (1024 * 1024) !== 0 && resumed.includes(offset))).toBe(true);
    expect(stalling.requests.length).toBeGreaterThan(0);
  });

  it('the nginx access log shows the Range that resumed a stalled transfer where it stopped', async () => {
    const [stalling, good] = await Promise.all([testMirror('stall-half'), nginxMirror()]);
    const dest = path.join(tempDir(), 'demo.torshpkg');
    const events: MirrorDownloadEvent[] = [];
    // One segment: the stalling mirror takes it first, nginx must resume it from the middle.
    await downloadFromSources([source('stalls', stalling.url), source('good', good.url)], dest, {
      expected: { sha256, size },
      failover: failover({ max_retries: 0, stall_timeout: '1500ms' }),
      segmentBytes: size,
      maxParallelSources: 1,
      onEvent: (event) => events.push(event),
    });
    expect(readFileSync(dest).equals(blob)).toBe(true);
    expect(stalling.requests).toEqual([`bytes=0-${size - 1}`]);
    const failover1 = events.find((event): event is Extract<MirrorDownloadEvent, { type: 'failover' }> => event.type === 'failover');
    expect(failover1?.offset).toBeGreaterThan(0);
    const resumedAt = failover1?.offset ?? -1;
    expect(good.readAccessLog().trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^"GET /${blobPath} HTTP/1.1" 206 \\d+ "bytes=${resumedAt}-${size - 1}"$`))]);
  });

  it('completes from the others when a mirror’s nginx is killed mid-download', async () => {
    const mirrors = await Promise.all([nginxMirror('2m'), nginxMirror('2m'), nginxMirror('2m')]);
    const victim = mirrors[1] as NginxServer;
    const dest = path.join(tempDir(), 'demo.torshpkg');
    let killed = false;
    const events: MirrorDownloadEvent[] = [];
    const result = await downloadFromSources(
      mirrors.map((server, index) => source(`m${index}`, server.url)),
      dest,
      {
        expected: { sha256, size },
        failover: failover({ max_retries: 2, retry_delay: '100ms' }),
        segmentBytes: 512 * 1024,
        progressIntervalMs: 20,
        onEvent: (event) => {
          events.push(event);
          if (event.type === 'progress' && !killed && event.bytes >= size * 0.3) {
            killed = true;
            void victim.kill();
          }
        },
      },
    );
    expect(killed).toBe(true);
    expect(readFileSync(dest).equals(blob)).toBe(true);
    expect(result.failovers).toBeGreaterThanOrEqual(1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'failover', mirror: 'm1' }));
    // Nothing was fetched twice beyond the chunks in flight when connections were cut.
    expect(result.wastedBytes).toBeLessThanOrEqual(512 * 1024);
  });

  it('catches a mirror serving another size before using its bytes', async () => {
    const [liar, good] = await Promise.all([nginxMirror(undefined, blob.subarray(0, size - 1)), nginxMirror()]);
    const dest = path.join(tempDir(), 'demo.torshpkg');
    const result = await downloadFromSources([source('liar', liar.url), source('good', good.url)], dest, { expected: { sha256, size }, failover: failover(), segmentBytes: 1024 * 1024 });
    expect(result.badMirrors).toEqual(['liar']);
    expect(result.mirrors.find((usage) => usage.id === 'liar')?.bytes ?? 0).toBe(0);
    expect(readFileSync(dest).equals(blob)).toBe(true);
  });

  it('moves nothing into place when no source has the right bytes', async () => {
    const flipping = await testMirror('flip-byte');
    const dest = path.join(tempDir(), 'demo.torshpkg');
    await expect(downloadFromSources([source('flips', flipping.url)], dest, { expected: { sha256, size }, failover: failover(), segmentBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.partial`)).toBe(false);
  });

  it('fails with UNAVAILABLE when every mirror is down, and stops on cancel', async () => {
    const dest = path.join(tempDir(), 'demo.torshpkg');
    await expect(
      downloadFromSources([source('gone', 'http://127.0.0.1:9')], dest, { expected: { sha256, size }, failover: failover({ max_retries: 1, retry_delay: '10ms' }) }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', reason: 'all-sources-failed' });
    const slow = await nginxMirror('256k');
    const controller = new AbortController();
    const pending = downloadFromSources([source('slow', slow.url)], dest, { expected: { sha256, size }, failover: failover(), signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.partial`)).toBe(false);
  });
});
