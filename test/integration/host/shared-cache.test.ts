import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { drainOutput, freePort, ProcessGroup, waitUntil } from '../../../bench/support/processes';
import { nginxPreamble } from '../../../bench/support/servers';
import { stopAllServing } from '../../support/cli-process';
import { startS3rver, s3rverCredentials, type RunningServer } from '../../support/object-servers';
import { makeTempDir } from '../../support/temp-dir';
import { adminKey, startServeHost, type ServeHost } from './serve-host';

// Real processes on a shared 2-core machine: generous per-test limits (each test still waits for answers, never sleeps for them).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * Issue 13 item 3 with real shared caches: nginx as a caching edge in front of `serve` keeps public
 * downloads and never hands a private or internal one to another caller; presigned redirects of
 * private packages are not cacheable and are never given to a caller who may not download.
 */

const group = new ProcessGroup();
const temp = makeTempDir('torsh-depot-shared-cache-');
let s3: RunningServer;
let t: ServeHost;
let edge = '';
const files = new Map<string, Buffer>();

beforeAll(async () => {
  s3 = await startS3rver(['depot-cache']);
  t = await startServeHost(['--blob-store', `s3://depot-cache/reg?endpoint=${encodeURIComponent(s3.endpoint)}&path_style=true&region=us-east-1`], {
    AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey,
  });
  for (const visibility of ['public', 'internal', 'private'] as const) {
    const published = await t.publish({ name: `cache-${visibility}`, version: '1.0.0' });
    expect(published.status).toBe(201);
    files.set(visibility, readFileSync(published.file));
    expect((await t.call('PATCH', `/packages/cache-${visibility}`, adminKey, { visibility })).status).toBe(200);
  }
  edge = await startCachingEdge(t.port);
}, 120_000);

afterAll(async () => {
  await group.stopAll();
  await t?.stop();
  await s3?.stop();
  await stopAllServing();
  temp.cleanup();
});

/** nginx with proxy_cache in front of the host; it honours Cache-Control and reports HIT/MISS. */
async function startCachingEdge(originPort: number): Promise<string> {
  const dir = path.join(temp.dir, 'nginx');
  mkdirSync(path.join(dir, 'cache'), { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `user root;
${nginxPreamble(dir)}
  proxy_cache_path ${dir}/cache keys_zone=edge:1m max_size=100m;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${originPort};
      proxy_set_header Host 127.0.0.1:${originPort};
      proxy_http_version 1.1;
      proxy_cache edge;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`,
  );
  const child = group.start('nginx', ['-p', dir, '-c', conf, '-e', `${dir}/error.log`], { stopSignal: 'SIGQUIT' });
  const output = drainOutput(child);
  const origin = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${origin}/api/v1/health`)).status === 200, `nginx (${output()})`);
  return origin;
}

async function viaEdge(route: string, key: string | null): Promise<{ status: number; cache: string | null; body: Buffer }> {
  const response = await fetch(`${edge}/api/v1${route}`, { headers: key ? { Authorization: `Bearer ${key}` } : {}, redirect: 'manual' });
  return { status: response.status, cache: response.headers.get('x-cache-status'), body: Buffer.from(await response.arrayBuffer()) };
}

describe('downloads through a caching edge (nginx proxy_cache)', () => {
  it('caches public downloads for everyone', async () => {
    const first = await viaEdge('/packages/cache-public/1.0.0/download', null);
    expect([first.status, first.cache]).toEqual([200, 'MISS']);
    const second = await viaEdge('/packages/cache-public/1.0.0/download', null);
    expect([second.status, second.cache]).toEqual([200, 'HIT']);
    expect(second.body.equals(files.get('public') ?? Buffer.alloc(0))).toBe(true);
  });

  it('never serves an internal or private download fetched with a key to an anonymous caller', async () => {
    for (const visibility of ['internal', 'private'] as const) {
      const route = `/packages/cache-${visibility}/1.0.0/download`;
      for (let round = 0; round < 2; round += 1) {
        const owner = await viaEdge(route, adminKey);
        expect(owner.status).toBe(200);
        expect(owner.cache).not.toBe('HIT');
        expect(owner.body.equals(files.get(visibility) ?? Buffer.alloc(0))).toBe(true);
      }
      const stranger = await viaEdge(route, null);
      expect(stranger.cache).not.toBe('HIT');
      expect([401, 404]).toContain(stranger.status);
      expect(stranger.body.includes(Buffer.from('torsh'))).toBe(false);
    }
  });
});

describe('presigned redirects (serve --presigned-downloads on an S3 blob store)', () => {
  let redirecting: ServeHost;
  beforeAll(async () => {
    // The same bucket and prefix, a second data folder: publish again, then compare answers.
    redirecting = await startServeHost(['--presigned-downloads', '--blob-store', `s3://depot-cache/reg?endpoint=${encodeURIComponent(s3.endpoint)}&path_style=true&region=us-east-1`], {
      AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey,
    });
    for (const visibility of ['public', 'private'] as const) {
      expect((await redirecting.put(`cache-${visibility}`, '1.0.0', files.get(visibility) ?? Buffer.alloc(0), adminKey)).status).toBe(201);
      expect((await redirecting.call('PATCH', `/packages/cache-${visibility}`, adminKey, { visibility })).status).toBe(200);
    }
  }, 60_000);
  afterAll(async () => {
    await redirecting?.stop();
  });

  it('redirects a private download only for a caller who may download it, with an uncacheable answer', async () => {
    const owner = await redirecting.call('GET', '/packages/cache-private/1.0.0/download', adminKey);
    expect(owner.status).toBe(302);
    expect(owner.headers.get('location')).toContain('X-Amz-Signature=');
    expect(owner.headers.get('cache-control')).toBe('private, no-store');
    expect(owner.headers.get('vary')).toBe('Authorization, Cookie');
    const located = await fetch(owner.headers.get('location') ?? '');
    expect(Buffer.from(await located.arrayBuffer()).equals(files.get('private') ?? Buffer.alloc(0))).toBe(true);

    const stranger = await redirecting.call('GET', '/packages/cache-private/1.0.0/download', null);
    expect(stranger.status).toBe(404);
    expect(stranger.headers.get('location')).toBeNull();

    const open = await redirecting.call('GET', '/packages/cache-public/1.0.0/download', null);
    expect(open.status).toBe(302);
    expect(open.headers.get('cache-control')).toBe('no-store');
  });
});
