import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { runCliProcess, stopAllServing } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { adminKey, rawExchange, startServeHost, type ServeHost } from './serve-host';

// Real processes on a shared 2-core machine: generous per-test limits (each test still waits for answers, never sleeps for them).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * Issue 13 item 7 over real sockets against `serve --idle-timeout 1s`: an upload that keeps moving
 * is never cut however long it takes, an idle connection is closed after the configured time, and
 * slow-loris headers are still bounded.
 */

const idleMs = 1_000;
let t: ServeHost;

beforeAll(async () => {
  t = await startServeHost(['--idle-timeout', '1s']);
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await stopAllServing();
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: t.port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with how long the host took to close the socket, and what it sent. */
function closedAfter(socket: net.Socket, started: number): Promise<{ ms: number; text: string }> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ ms: performance.now() - started, text }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('serve --idle-timeout', () => {
  it('refuses a bad duration', async () => {
    const result = await runCliProcess(['serve', '--idle-timeout', 'soon', '--port', '0']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--idle-timeout must be a duration/);
  });

  it('publishes an upload that trickles for several idle periods (no wall-clock limit while bytes flow)', async () => {
    const file = await makeTestPackage(t.work, { name: 'slow-upload', version: '1.0.0', files: { 'models/weights.bin': 48 * 1024 } });
    const bytes = readFileSync(file);
    const socket = await connect();
    const started = performance.now();
    const answer = closedAfter(socket, started);
    socket.write(`PUT /api/v1/packages/slow-upload/1.0.0 HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nAuthorization: Bearer ${adminKey}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`);
    // 12 slices, one every 60 % of the idle time: about 7 idle periods in all, never idle for one.
    const slices = 12;
    for (let index = 0; index < slices; index += 1) {
      socket.write(bytes.subarray(Math.floor((index * bytes.length) / slices), Math.floor(((index + 1) * bytes.length) / slices)));
      await sleep(idleMs * 0.6);
    }
    const { ms, text } = await answer;
    expect(ms).toBeGreaterThan(idleMs * 5);
    expect(text).toMatch(/^HTTP\/1\.1 201 /);
    expect((await t.call('GET', '/packages/slow-upload/1.0.0', adminKey)).status).toBe(200);
  });

  it('closes a connection that stays idle, mid-body or between requests', async () => {
    // A keep-alive connection that answered one request and then sends nothing.
    const idle = await connect();
    const idleStarted = performance.now();
    const idleClosed = closedAfter(idle, idleStarted);
    idle.write(`GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\n\r\n`);
    const between = await idleClosed;
    expect(between.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(between.ms).toBeLessThan(idleMs * 8);

    // An upload that stops sending: closed after about the idle time, nothing published.
    const stalled = await connect();
    const stalledStarted = performance.now();
    const stalledClosed = closedAfter(stalled, stalledStarted);
    stalled.write(`PUT /api/v1/packages/stalled/1.0.0 HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nAuthorization: Bearer ${adminKey}\r\nContent-Length: 1000000\r\n\r\n${'x'.repeat(1000)}`);
    const mid = await stalledClosed;
    expect(mid.ms).toBeGreaterThanOrEqual(idleMs * 0.9);
    expect(mid.ms).toBeLessThan(idleMs * 8);
    expect((await t.call('GET', '/packages/stalled', adminKey)).status).toBe(404);
  });

  it('bounds slow-loris headers even while bytes keep arriving', async () => {
    const socket = await connect();
    const started = performance.now();
    const closed = closedAfter(socket, started);
    socket.write(`GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\n`);
    let sent = 0;
    // One header byte every 150 ms: never idle, never finishing its headers.
    const drip = setInterval(() => {
      if (socket.destroyed) return;
      socket.write(sent % 20 === 19 ? '\r\n' : sent % 20 === 0 ? 'X-Slow: ' : 'a');
      sent += 1;
    }, 150);
    const { ms, text } = await closed;
    clearInterval(drip);
    expect(ms).toBeLessThan(idleMs * 8);
    expect(text === '' || /^HTTP\/1\.1 408 /.test(text)).toBe(true);
    // And the host still answers.
    expect((await rawExchange(t.port, Buffer.from(`GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\n\r\n`))).status).toBe(200);
  });
});
