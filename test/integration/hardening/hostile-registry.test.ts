import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../../support/cli-process';
import { makeTestPackage } from '../../support/packages';
import { adminKey, finish, serveWithScratch, type ServeTestHost } from './serve-test-host';

/**
 * Issue 13, item 2: `pull` trusts only what it asked for. A small hostile registry (written here) sits in
 * front of a real serve and rewrites its answers: another package for the asked name, a version that
 * climbs out of the target folder, a version the asked range does not allow.
 */
let t: ServeTestHost;
let work: string;
let hostile: http.Server;
let hostileUrl = '';
const requests: string[] = [];
type Rewrite = (metadata: Record<string, unknown>) => Record<string, unknown>;
let rewrite: Rewrite = (metadata) => metadata;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  ({ host: t, work } = await serveWithScratch(cleanups));
  for (const name of ['victim', 'impostor']) {
    const file = await makeTestPackage(work, { name, version: '1.0.0' });
    const response = await fetch(`${t.api}/packages/${name}/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` }, body: new Uint8Array(readFileSync(file)) });
    expect(response.status).toBe(201);
    expect((await t.call('PATCH', `/packages/${name}`, adminKey, { visibility: 'public' })).status).toBe(200);
  }
  hostile = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    void (async () => {
      const upstream = await fetch(`${new URL(t.api).origin}${request.url ?? '/'}`);
      const isMetadata = /^\/api\/v1\/(packages\/[^/]+\/[^/]+|resolve\/[^/?]+)(\?.*)?$/.test(request.url ?? '') && upstream.ok;
      const body = Buffer.from(await upstream.arrayBuffer());
      if (!isMetadata) {
        response.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/octet-stream', 'Content-Length': String(body.length) });
        response.end(body);
        return;
      }
      const rewritten = JSON.stringify(rewrite(JSON.parse(body.toString('utf8')) as Record<string, unknown>));
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(rewritten)) });
      response.end(rewritten);
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => hostile?.close(resolve));
  await finish(cleanups);
});

async function impostorMetadata(): Promise<Record<string, unknown>> {
  return (await t.call('GET', '/packages/impostor/1.0.0', null)).body as Record<string, unknown>;
}

function pull(spec: string, output: string): ReturnType<typeof runCliProcess> {
  const env = { ...process.env };
  delete env.TORSH_DEPOT_API_KEY;
  delete env.TORSH_DEPOT_SIGNATURE_POLICY;
  return runCliProcess(['pull', spec, '--registry', hostileUrl, '-o', output], env);
}

/** Every file under `dir`, recursively (what a pull left behind). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('pull from a hostile registry', () => {
  it('refuses another package substituted for the asked name, before downloading a byte', async () => {
    const impostor = await impostorMetadata();
    rewrite = () => impostor;
    const area = path.join(work, 'substituted');
    mkdirSync(path.join(area, 'out'), { recursive: true });
    requests.length = 0;
    const result = await pull('victim@1.0.0', path.join(area, 'out'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Asked for victim, the registry answered with impostor');
    expect(requests.some((line) => line.includes('/download'))).toBe(false);
    expect(filesUnder(area)).toEqual([]);
  });

  it('refuses a version that would write outside the target folder (exact and range pulls)', async () => {
    rewrite = (metadata) => ({ ...metadata, version: '1.0.0/../../escaped' });
    const area = path.join(work, 'traversal');
    const target = path.join(area, 'deep', 'out');
    mkdirSync(target, { recursive: true });
    for (const spec of ['victim@1.0.0', 'victim@^1', 'victim']) {
      requests.length = 0;
      const result = await pull(spec, target);
      expect(result.code, spec).not.toBe(0);
      expect(result.stderr, spec).toContain('invalid package name or version');
      expect(requests.some((line) => line.includes('/download')), spec).toBe(false);
    }
    expect(filesUnder(area)).toEqual([]);
  });

  it('refuses a version the asked range does not allow, and a different exact version', async () => {
    rewrite = (metadata) => ({ ...metadata, version: '2.0.0' });
    const area = path.join(work, 'outside-range');
    mkdirSync(area, { recursive: true });
    for (const spec of ['victim@^1', 'victim@1.0.0']) {
      const result = await pull(spec, area);
      expect(result.code, spec).not.toBe(0);
      expect(result.stderr, spec).toContain('the registry answered with version 2.0.0');
    }
    expect(filesUnder(area)).toEqual([]);
    // The same pull through the same proxy, answers untouched, works: the refusals above are the checks.
    rewrite = (metadata) => metadata;
    const honest = await pull('victim@^1', area);
    expect(honest.code, honest.stderr).toBe(0);
    expect(filesUnder(area)).toEqual(['victim-1.0.0.torshpkg']);
  });
});
