import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createStagingRoutes } from '../../../electron/host/staging-routes';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startTestHost(): Promise<RunningHost> {
  return (await startTestHostWithCore()).host;
}

async function startTestHostWithCore(): Promise<{ host: RunningHost; core: Core }> {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  const staticDir = path.join(temp.dir, 'static');
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Torsh Depot</title>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(temp.dir, 'outside.txt'), 'must not be served');
  const core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger });
  cleanups.push(() => core.close());
  const host = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir, sessionRoutes: [createStagingRoutes(core)] });
  cleanups.push(() => host.close());
  return { host, core };
}

function put(url: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'PUT', headers: { 'Content-Length': body.length } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Resolves with the HTTP status of a refused upgrade, or 101 when the socket opened. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.on('error', reject);
  });
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      })
      .on('error', reject);
  });
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function request(socket: WebSocket, message: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const parsed = JSON.parse(data.toString()) as Record<string, unknown>;
      if (parsed.type === 'response') {
        socket.off('message', onMessage);
        resolve(parsed);
      }
    };
    socket.on('message', onMessage);
    socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  });
}

describe('headless host', () => {
  it('refuses WebSocket upgrades without the token, with a wrong token, or from a foreign origin', async () => {
    const host = await startTestHost();
    const base = `ws://127.0.0.1:${host.port}/ws`;
    expect(await upgradeStatus(base)).toBe(401);
    expect(await upgradeStatus(`${base}?token=wrong-${host.token}`)).toBe(401);
    expect(await upgradeStatus(`${base}?token=`)).toBe(401);
    expect(await upgradeStatus(`${base}?token=${host.token}`, { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(`ws://127.0.0.1:${host.port}/other?token=${host.token}`)).toBe(404);
    expect(await upgradeStatus(`${base}?token=${host.token}`, { Origin: `http://127.0.0.1:${host.port}` })).toBe(101);
  });

  it('carries the contract over the socket: round trip, typed errors, events', async () => {
    const host = await startTestHost();
    const socket = await openSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`);
    cleanups.push(() => socket.close());

    const health = await request(socket, { type: 'request', id: 1, channel: 'app.health', input: {} });
    expect(health).toMatchObject({ type: 'response', id: 1, ok: true, result: { status: 'ok', shell: 'headless' } });

    expect(await request(socket, { type: 'request', id: 2, channel: 'rm -rf', input: {} })).toMatchObject({ id: 2, ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    expect(await request(socket, { type: 'request', id: 3, channel: 'jobs.get', input: { id: 7 } })).toMatchObject({ id: 3, ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await request(socket, { type: 'nonsense', id: 4 })).toMatchObject({ id: 4, ok: false, error: { code: 'VALIDATION_FAILED' } });

    const events: string[] = [];
    socket.on('message', (data) => {
      const parsed = JSON.parse(data.toString()) as { type: string; event?: string; payload?: { status?: string } };
      if (parsed.type === 'event' && parsed.event === 'jobs.updated') events.push(parsed.payload?.status ?? '');
    });
    const started = await request(socket, { type: 'request', id: 5, channel: 'jobs.start', input: { kind: 'data-folder-check', params: { sizeMiB: 4 } } });
    expect(started).toMatchObject({ ok: true, result: { kind: 'data-folder-check' } });
    await expect.poll(() => events.at(-1), { timeout: 10_000 }).toBe('succeeded');
  });

  it('closes the socket on non-JSON messages', async () => {
    const host = await startTestHost();
    const socket = await openSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send('{oops');
    expect(await closed).toBe(1007);
  });

  it('serves the UI only with the token, with security headers, and never outside its folder', async () => {
    const host = await startTestHost();
    const base = `http://127.0.0.1:${host.port}`;
    expect((await get(`${base}/`)).status).toBe(401);
    const page = await get(`${base}/?token=${host.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Torsh Depot');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const cookie = String(page.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
    // Named per port: another service on 127.0.0.1 (cookies ignore ports) never receives this host's session.
    expect(cookie.startsWith(`torsh_depot_session_${host.port}=`)).toBe(true);
    // Assets load with the session cookie the page received.
    const asset = await get(`${base}/assets/app.js`, { Cookie: cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await get(`${base}/assets/app.js`)).status).toBe(401);
    for (const escape of ['/..%2Foutside.txt', '/%2e%2e/outside.txt', '/assets/..%2F..%2Foutside.txt', '/..%5Coutside.txt']) {
      const response = await get(`${base}${escape}`, { Cookie: cookie });
      expect(response.status, escape).toBe(404);
      expect(response.body).not.toContain('must not be served');
    }
  });

  it('answers only to loopback Host names when bound to loopback (DNS rebinding)', async () => {
    const host = await startTestHost();
    const response = await get(`http://127.0.0.1:${host.port}/?token=${host.token}`, { Host: `attacker.example:${host.port}` });
    expect(response.status).toBe(421);
    expect(await upgradeStatus(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`, { Host: 'attacker.example' })).toBe(421);
  });

  it('receives the files of a dropped folder only with the token, at safe paths, once each', async () => {
    const { host, core } = await startTestHostWithCore();
    const { id } = await core.stagedFolders.create('upload');
    const base = `http://127.0.0.1:${host.port}/session/staging/folders`;
    const file = (relative: string, folder = id, token = host.token): string => `${base}/${folder}/files?path=${encodeURIComponent(relative)}&token=${token}`;

    const stored = await put(file('models/a.pt'), Buffer.alloc(1000, 1));
    expect(stored.status).toBe(201);
    expect(JSON.parse(stored.body)).toEqual({ path: 'models/a.pt', size: 1000 });
    expect((await put(file('models/b.pt', id, 'wrong'), Buffer.alloc(10))).status).toBe(401);
    const escape = await put(file('../outside.pt'), Buffer.alloc(10));
    expect(escape.status).toBe(400);
    expect((JSON.parse(escape.body) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    expect((await put(file('models/a.pt'), Buffer.alloc(10))).status).toBe(409);
    expect((await put(file('models/c.pt', 'f'.repeat(32)), Buffer.alloc(10))).status).toBe(404);
    expect((await core.stagedFolders.inspect({ kind: 'uploaded', id })).fileCount).toBe(1);
  });
});
