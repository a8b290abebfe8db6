import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServe, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';

const adminKey = 'test-admin-key-0123456789abcdef';
const maxPackageBytes = 2 * 1024 * 1024;
let host: ServingHost;
let base: string;
let dataDir: string;
let work: string;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  const data = makeTempDir();
  const scratch = makeTempDir();
  cleanups.push(data.cleanup, scratch.cleanup);
  dataDir = data.dir;
  work = scratch.dir;
  // This suite is about the registry protocol, so its packages are public (anonymously readable);
  // test/integration/access covers internal and private packages.
  host = await startServe(['--port', '0', '--data-dir', dataDir, '--max-package-size', String(maxPackageBytes), '--default-visibility', 'public'], {
    ...process.env,
    TORSH_DEPOT_ADMIN_KEY: adminKey,
  });
  base = `${new URL(host.url).origin}/api/v1`;
});

afterAll(async () => {
  await host?.stop();
  for (const cleanup of cleanups.reverse()) cleanup();
});

const auth = { Authorization: `Bearer ${adminKey}` };

async function publish(file: string, name: string, version: string, headers: Record<string, string> = auth): Promise<Response> {
  const body = readFileSync(file);
  return fetch(`${base}/packages/${name}/${version}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', ...headers }, body });
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function storedBlobs(): string[] {
  const dir = path.join(dataDir, 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return body.error;
}

describe('registry HTTP API v1', () => {
  it('GET /health', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', version: expect.any(String) });
  });

  it('PUT publishes (201), is idempotent for the same bytes (200), refuses other bytes (409)', async () => {
    const file = await makeTestPackage(work, { name: 'quokka-net', version: '1.0.0', description: 'A small marsupial detector' });
    const first = await publish(file, 'quokka-net', '1.0.0', { ...auth, 'X-Torsh-Metadata': JSON.stringify({ tags: ['vision', 'detector'], license: 'MIT' }) });
    expect(first.status).toBe(201);
    const digest = `sha256:${sha256(file)}`;
    expect(await first.json()).toEqual({ name: 'quokka-net', version: '1.0.0', digest, size: readFileSync(file).length });
    expect(storedBlobs()).toEqual([sha256(file)]);

    const again = await publish(file, 'quokka-net', '1.0.0');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ digest });

    const other = await makeTestPackage(work, { name: 'quokka-net', version: '1.0.0', description: 'different bytes' });
    const conflict = await publish(other, 'quokka-net', '1.0.0');
    expect(conflict.status).toBe(409);
    expect((await errorOf(conflict)).code).toBe('CONFLICT');
    expect(storedBlobs()).toEqual([sha256(file)]);

    const metadata = await (await fetch(`${base}/packages/quokka-net/1.0.0`)).json();
    expect(metadata).toMatchObject({
      name: 'quokka-net',
      version: '1.0.0',
      description: 'A small marsupial detector',
      license: 'MIT',
      tags: ['vision', 'detector'],
      digest,
      downloads: 0,
      yanked: false,
      dependencies: {},
    });
    expect(metadata.resources.map((resource: { path: string }) => resource.path).sort()).toEqual(['config/model.yaml', 'models/weights.pt']);
  });

  it('refuses without a key (401), with a wrong key (401), and refuses bad packages (400) storing nothing', async () => {
    const file = await makeTestPackage(work, { name: 'guarded', version: '1.0.0' });
    const blobsBefore = storedBlobs();
    expect((await publish(file, 'guarded', '1.0.0', {})).status).toBe(401);
    const wrong = await publish(file, 'guarded', '1.0.0', { Authorization: 'Bearer not-the-key-at-all' });
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).code).toBe('UNAUTHORIZED');

    const garbage = path.join(work, 'garbage.torshpkg');
    writeFileSync(garbage, 'this is not a zip file at all');
    const invalid = await publish(garbage, 'guarded', '1.0.0');
    expect(invalid.status).toBe(400);
    expect((await errorOf(invalid)).code).toBe('INVALID_PACKAGE');

    const mismatch = await publish(file, 'other-name', '1.0.0');
    expect(mismatch.status).toBe(400);
    expect((await errorOf(mismatch)).message).toContain('guarded');
    expect((await publish(file, 'guarded', '2.0.0')).status).toBe(400);
    expect((await publish(file, 'guarded', '1.0')).status).toBe(400);
    expect((await publish(file, 'Bad_Name!', '1.0.0')).status).toBe(400);
    const badMeta = await publish(file, 'guarded', '1.0.0', { ...auth, 'X-Torsh-Metadata': '{"tags": "not-a-list"}' });
    expect(badMeta.status).toBe(400);

    expect(storedBlobs()).toEqual(blobsBefore);
    expect((await fetch(`${base}/packages/guarded/1.0.0`)).status).toBe(404);
    expect(readdirSync(path.join(dataDir, 'tmp')).filter((name) => !name.startsWith('staging'))).toEqual([]);
  });

  it('refuses packages over the size limit with 413, declared or streamed', async () => {
    const big = await makeTestPackage(work, { name: 'too-big', version: '1.0.0', files: { 'models/w.pt': maxPackageBytes + 1024 } });
    const declared = await publish(big, 'too-big', '1.0.0');
    expect(declared.status).toBe(413);
    // Chunked: no Content-Length, the limit trips while streaming.
    const bytes = readFileSync(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 256 * 1024) controller.enqueue(bytes.subarray(offset, offset + 256 * 1024));
        controller.close();
      },
    });
    const streamed = await fetch(`${base}/packages/too-big/1.0.0`, { method: 'PUT', headers: auth, body: stream, duplex: 'half' } as RequestInit).catch((error: unknown) => error);
    if (streamed instanceof Response) expect(streamed.status).toBe(413);
    else expect(String((streamed as Error).cause ?? streamed)).toMatch(/socket|closed|reset|terminated/i);
    expect((await fetch(`${base}/packages/too-big/1.0.0`)).status).toBe(404);
  });

  it('lists versions newest first and resolves semver ranges, skipping yanked versions', async () => {
    for (const version of ['1.2.0', '1.10.0', '1.3.0-beta.1', '2.0.0', '1.9.5']) {
      const file = await makeTestPackage(work, { name: 'ranged', version });
      expect((await publish(file, 'ranged', version)).status).toBe(201);
    }
    const listing = await (await fetch(`${base}/packages/ranged`)).json();
    expect(listing.versions.map((entry: { version: string }) => entry.version)).toEqual(['2.0.0', '1.10.0', '1.9.5', '1.3.0-beta.1', '1.2.0']);

    const resolve = async (range: string): Promise<Response> => fetch(`${base}/resolve/ranged?range=${encodeURIComponent(range)}`);
    expect((await (await resolve('^1.2')).json()).version).toBe('1.10.0');
    expect((await (await resolve('~1.9.0')).json()).version).toBe('1.9.5');
    expect((await (await resolve('>=1.0.0 <1.10.0')).json()).version).toBe('1.9.5');
    expect((await (await resolve('1.x || >=3')).json()).version).toBe('1.10.0');
    expect((await (await resolve('*')).json()).version).toBe('2.0.0');
    expect((await resolve('^3.0.0')).status).toBe(404);
    expect((await resolve('not a range!')).status).toBe(400);

    expect((await fetch(`${base}/packages/ranged/1.10.0/yank`, { method: 'POST' })).status).toBe(401);
    const yanked = await fetch(`${base}/packages/ranged/1.10.0/yank`, { method: 'POST', headers: auth });
    expect(yanked.status).toBe(200);
    expect((await yanked.json()).yanked).toBe(true);
    expect((await (await resolve('^1.2')).json()).version).toBe('1.9.5');
    expect((await fetch(`${base}/packages/ranged/1.10.0/download`)).status).toBe(200);
    await fetch(`${base}/packages/ranged/1.10.0/unyank`, { method: 'POST', headers: auth });
    expect((await (await resolve('^1.2')).json()).version).toBe('1.10.0');
  });

  it('downloads with ETag, Range (206), If-None-Match (304) and counts downloads', async () => {
    const file = await makeTestPackage(work, { name: 'fetchable', version: '0.1.0', files: { 'models/w.pt': 300_000 } });
    await publish(file, 'fetchable', '0.1.0');
    const bytes = readFileSync(file);
    const digest = `sha256:${sha256(file)}`;
    const url = `${base}/packages/fetchable/0.1.0/download`;

    const full = await fetch(url);
    expect(full.status).toBe(200);
    expect(full.headers.get('etag')).toBe(`"${digest}"`);
    expect(full.headers.get('content-length')).toBe(String(bytes.length));
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await full.arrayBuffer()).equals(bytes)).toBe(true);

    const partial = await fetch(url, { headers: { Range: 'bytes=1000-1999' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 1000-1999/${bytes.length}`);
    expect(Buffer.from(await partial.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
    const tail = await fetch(url, { headers: { Range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 10))).toBe(true);
    expect((await fetch(url, { headers: { Range: `bytes=${bytes.length}-` } })).status).toBe(416);

    const cached = await fetch(url, { headers: { 'If-None-Match': `"${digest}"` } });
    expect(cached.status).toBe(304);
    const fromStart = await fetch(url, { headers: { Range: 'bytes=0-99' } });
    expect(fromStart.status).toBe(206);
    await fromStart.arrayBuffer();
    const metadata = await (await fetch(`${base}/packages/fetchable/0.1.0`)).json();
    expect(metadata.downloads).toBe(2); // the full GET and the range from byte 0; not the resumes, the tail or the 304
    expect((await fetch(`${base}/packages/fetchable/9.9.9/download`)).status).toBe(404);
  });

  it('searches by name, description and tags, ranked, paginated, without yanked-only packages', async () => {
    const specs = [
      { name: 'resnet-50', description: 'Image classification backbone', tags: ['vision', 'classification'] },
      { name: 'bert-base', description: 'Language model for text classification', tags: ['nlp'] },
      { name: 'vision/yolo-tiny', description: 'Real-time object detection', tags: ['vision', 'detection'] },
      { name: 'whisper-small', description: 'Speech recognition', tags: ['audio'] },
    ];
    for (const spec of specs) {
      const file = await makeTestPackage(work, { name: spec.name, version: '1.0.0', description: spec.description });
      const response = await publish(file, spec.name, '1.0.0', { ...auth, 'X-Torsh-Metadata': JSON.stringify({ tags: spec.tags }) });
      expect(response.status, spec.name).toBe(201);
    }
    const search = async (query: string, extra = ''): Promise<{ total: number; page: number; per_page: number; packages: Array<{ name: string }> }> =>
      (await fetch(`${base}/search?q=${encodeURIComponent(query)}${extra}`)).json();
    expect((await search('resnet')).packages.map((item) => item.name)).toEqual(['resnet-50']);
    expect((await search('classif')).packages.map((item) => item.name).sort()).toEqual(['bert-base', 'resnet-50']);
    expect((await search('vision')).packages.map((item) => item.name)).toEqual(expect.arrayContaining(['resnet-50', 'vision/yolo-tiny']));
    // A name match outranks a tag or description match.
    expect((await search('vision')).packages[0]?.name).toBe('vision/yolo-tiny');
    // quokka-net, published above, is tagged vision too.
    const paged = await search('vision', '&page=2&per_page=1');
    expect(paged).toMatchObject({ total: 3, total_capped: false, page: 2, per_page: 1 });
    expect(paged.packages).toHaveLength(1);

    const scoped = await fetch(`${base}/packages/vision/yolo-tiny/1.0.0`);
    expect(scoped.status).toBe(200);
    expect((await scoped.json()).name).toBe('vision/yolo-tiny');
    expect((await fetch(`${base}/packages/vision/yolo-tiny`)).status).toBe(200);

    await fetch(`${base}/packages/whisper-small/1.0.0/yank`, { method: 'POST', headers: auth });
    expect((await search('speech')).total).toBe(0);
    expect((await fetch(`${base}/search?per_page=1000`)).status).toBe(400);
  });

  it('answers unknown API paths with a JSON 404', async () => {
    const response = await fetch(`${base}/nothing-here`);
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe('NOT_FOUND');
  });
});
