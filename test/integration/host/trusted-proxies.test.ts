import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import { runCliProcess, stopAllServing } from '../../support/cli-process';
import { procStatusKiB } from '../../../bench/support/processes';
import { adminKey, startServeHost, type ServeHost } from './serve-host';

// Real processes on a shared 2-core machine: generous per-test limits (each test still waits for answers, never sleeps for them).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * Issue 13 item 9 against `serve --trusted-proxy 127.0.0.2/32`: X-Forwarded-For counts only from the
 * proxy, the failed-auth limiter and `/metrics` see the real client, IPv6 clients are keyed by /64,
 * the limiter's memory is bounded under a spray, and valid keys are never locked out.
 */

const proxy = '127.0.0.2';
let t: ServeHost;
let viewerKey = '';
let statsKey = '';
const agents = new Map<string, http.Agent>();

beforeAll(async () => {
  t = await startServeHost(['--trusted-proxy', `${proxy}/32`, '--trusted-proxy', '10.0.0.0/8']);
  for (const [name, role] of [['viewer', 'viewer'], ['scientist', 'data-scientist']] as const) {
    const user = await t.call('POST', '/users', adminKey, { name, email: `${name}@example.com` });
    const id = (user.body as { id: string }).id;
    expect((await t.call('POST', `/users/${id}/grants`, adminKey, { role, scope: '*' })).status).toBe(201);
    const key = ((await t.call('POST', '/keys', adminKey, { user_id: id })).body as { key: string }).key;
    if (role === 'viewer') viewerKey = key;
    else statsKey = key;
  }
}, 60_000);

afterAll(async () => {
  for (const agent of agents.values()) agent.destroy();
  await t?.stop();
  await stopAllServing();
});

/** A request from a chosen loopback source address (keep-alive per source), optionally with X-Forwarded-For and a key. */
function from(source: string, route: string, options: { forwardedFor?: string; key?: string | null } = {}): Promise<{ status: number; body: string }> {
  let agent = agents.get(source);
  if (!agent) {
    agent = new http.Agent({ keepAlive: true, maxSockets: 16, localAddress: source });
    agents.set(source, agent);
  }
  const headers: Record<string, string> = {};
  if (options.forwardedFor !== undefined) headers['X-Forwarded-For'] = options.forwardedFor;
  if (options.key) headers.Authorization = `Bearer ${options.key}`;
  return new Promise((resolve, reject) => {
    const request = http.request(`${t.origin}${route}`, { agent, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const bad = 'tdk_not-a-real-key-00000000000000000000000';

describe('serve --trusted-proxy', () => {
  it('refuses a malformed range at start-up', async () => {
    const result = await runCliProcess(['serve', '--trusted-proxy', '10.0.0.0/33', '--port', '0']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--trusted-proxy: "10\.0\.0\.0\/33"/);
  });

  it('gives /metrics the real caller: a remote client behind the proxy needs a key with ViewStats', async () => {
    // Directly on loopback: open to local scrapers.
    expect((await from('127.0.0.1', '/metrics')).status).toBe(200);
    // X-Forwarded-For from an untrusted peer is ignored (still loopback).
    expect((await from('127.0.0.3', '/metrics', { forwardedFor: '203.0.113.7' })).status).toBe(200);
    // Through the trusted proxy, the real client is remote.
    expect((await from(proxy, '/metrics', { forwardedFor: '203.0.113.7' })).status).toBe(401);
    expect((await from(proxy, '/metrics', { forwardedFor: '203.0.113.7', key: viewerKey })).status).toBe(403);
    const scraped = await from(proxy, '/metrics', { forwardedFor: '203.0.113.7', key: statsKey });
    expect(scraped.status).toBe(200);
    expect(scraped.body).toContain('# TYPE');
    // A chain: the right-most untrusted hop is the client (10.x is a trusted proxy too); a loopback client is local.
    expect((await from(proxy, '/metrics', { forwardedFor: '203.0.113.7, 10.1.2.3' })).status).toBe(401);
    expect((await from(proxy, '/metrics', { forwardedFor: '198.51.100.1, 127.0.0.1' })).status).toBe(200);
    // A malformed header is ignored: the proxy itself (loopback) is the caller.
    expect((await from(proxy, '/metrics', { forwardedFor: 'not-an-address' })).status).toBe(200);
  });

  it('keys the failed-auth limiter on the real client, per /64 for IPv6, and never locks out a valid key', async () => {
    for (let attempt = 0; attempt < 20; attempt += 1) expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '198.51.100.1', key: bad })).status).toBe(401);
    expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '198.51.100.1', key: bad })).status).toBe(429);
    // The same client's valid keys still work.
    expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '198.51.100.1', key: adminKey })).status).toBe(200);
    expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '198.51.100.1', key: viewerKey })).status).toBe(200);
    // Other clients behind the same proxy are untouched, and so is the proxy's own address.
    expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '198.51.100.2', key: bad })).status).toBe(401);
    expect((await from(proxy, '/api/v1/whoami', { key: bad })).status).toBe(401);
    // An untrusted peer cannot pick its identity with X-Forwarded-For.
    expect((await from('127.0.0.3', '/api/v1/whoami', { forwardedFor: '198.51.100.1', key: bad })).status).toBe(401);

    for (let attempt = 0; attempt < 20; attempt += 1) expect((await from(proxy, '/api/v1/whoami', { forwardedFor: `2001:db8:1:2::${(attempt + 1).toString(16)}`, key: bad })).status).toBe(401);
    expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '2001:db8:1:2:ffff:ffff:ffff:ffff', key: bad })).status).toBe(429);
    expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '2001:db8:1:3::1', key: bad })).status).toBe(401);

    // The audit names the real client of the burst.
    const bursts = await t.call('GET', '/audit?action=auth.failed-burst', adminKey);
    expect((bursts.body as { events: Array<{ source: string }> }).events.map((event) => event.source).sort()).toEqual(['198.51.100.1', '2001:db8:1:2::14']);
  });

  it('stays bounded under an IPv6 spray: 10,001 other /64s push a quiet client out', async () => {
    for (let attempt = 0; attempt < 19; attempt += 1) expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '192.0.2.1', key: bad })).status).toBe(401);
    const rssBefore = procStatusKiB(t.serving.child.pid ?? 0, 'VmRSS');
    const spray = Array.from({ length: 10_001 }, (_, index) => `2001:db8:${(0x100 + (index >>> 16)).toString(16)}:${(index & 0xffff).toString(16)}::1`);
    let next = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (;;) {
          const address = spray[next];
          next += 1;
          if (address === undefined) return;
          const { status } = await from(proxy, '/api/v1/whoami', { forwardedFor: address, key: bad });
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    expect([...statuses.entries()]).toEqual([[401, 10_001]]);
    // 192.0.2.1 was the least recently failing client: forgotten, so two more failures are both 401 (else the second is 429).
    expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '192.0.2.1', key: bad })).status).toBe(401);
    expect((await from(proxy, '/api/v1/whoami', { forwardedFor: '192.0.2.1', key: bad })).status).toBe(401);
    const rssAfter = procStatusKiB(t.serving.child.pid ?? 0, 'VmRSS');
    console.log(`IPv6 spray: 10,001 /64s; serve RSS ${Math.round(rssBefore / 1024)} MiB → ${Math.round(rssAfter / 1024)} MiB`);
    expect((await from('127.0.0.1', '/api/v1/health')).status).toBe(200);
  }, 120_000);
});

