import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServe, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';

const adminKey = 'metrics-admin-key-0123456789abcdef';
const cleanups: Array<() => unknown> = [];
const hosts: ServingHost[] = [];
let origin: string;
let work: string;

beforeAll(async () => {
  const data = makeTempDir('torsh-depot-metrics-it-');
  const scratch = makeTempDir('torsh-depot-metrics-work-');
  cleanups.push(data.cleanup, scratch.cleanup);
  work = scratch.dir;
  const host = await startServe(['--port', '0', '--data-dir', data.dir, '--default-visibility', 'public'], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  hosts.push(host);
  origin = new URL(host.url).origin;
});

afterAll(async () => {
  await Promise.all(hosts.map((host) => host.stop()));
  for (const cleanup of cleanups.reverse()) cleanup();
});

/** Runs the real `promtool check metrics` on an exposition; resolves with its exit code and output. */
function promtoolCheck(exposition: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(exposition);
  });
}

function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

describe('GET /metrics on the registry host', () => {
  it('counts real downloads, uploads and errors served through `serve`, and passes `promtool check metrics` without lint warnings', async () => {
    const file = await makeTestPackage(work, { name: 'metrics-demo', version: '1.0.0' });
    const bytes = readFileSync(file);
    const published = await fetch(`${origin}/api/v1/packages/metrics-demo/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: bytes });
    expect(published.status).toBe(201);
    for (let index = 0; index < 5; index += 1) {
      const response = await fetch(`${origin}/api/v1/packages/metrics-demo/1.0.0/download`);
      expect(response.status).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBe(bytes.length);
    }
    expect((await fetch(`${origin}/api/v1/packages/metrics-demo/9.9.9/download`)).status).toBe(404);

    const response = await fetch(`${origin}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(sample(text, 'torsh_depot_downloads_total{source="registry"}')).toBe(5);
    expect(sample(text, 'torsh_depot_download_bytes_total{source="registry"}')).toBe(5 * bytes.length);
    expect(sample(text, 'torsh_depot_uploads_total{target="registry"}')).toBe(1);
    expect(sample(text, 'torsh_depot_download_duration_seconds_count')).toBe(5);
    expect(sample(text, 'torsh_depot_download_size_bytes_bucket{le="+Inf"}')).toBe(5);
    expect(sample(text, 'torsh_depot_errors_total{operation="download",code="NOT_FOUND"}')).toBe(1);
    expect(sample(text, 'torsh_depot_cache_size_bytes')).toBe(0);
    expect(text).toMatch(/^# HELP torsh_depot_download_duration_seconds /m);
    expect(text).toMatch(/^# TYPE torsh_depot_download_duration_seconds histogram$/m);

    const checked = await promtoolCheck(text);
    expect(checked.output).toBe('');
    expect(checked.code).toBe(0);
  });

  it('answers HEAD, refuses other methods, and requires a stats key when the setting asks for it', async () => {
    expect((await fetch(`${origin}/metrics`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${origin}/metrics`, { method: 'POST' })).status).toBe(405);

    const data = makeTempDir('torsh-depot-metrics-locked-');
    cleanups.push(data.cleanup);
    writeFileSync(path.join(data.dir, 'settings.json'), JSON.stringify({ metrics: { requireKeyForEndpoint: true } }));
    const locked = await startServe(['--port', '0', '--data-dir', data.dir, '--default-visibility', 'public'], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
    hosts.push(locked);
    const lockedOrigin = new URL(locked.url).origin;
    const anonymous = await fetch(`${lockedOrigin}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    expect((await fetch(`${lockedOrigin}/metrics`, { headers: { Authorization: 'Bearer wrong-key-0123456789abcdef' } })).status).toBe(401);
    const allowed = await fetch(`${lockedOrigin}/metrics`, { headers: { Authorization: `Bearer ${adminKey}` } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('# TYPE torsh_depot_downloads_total counter');
  });
});
