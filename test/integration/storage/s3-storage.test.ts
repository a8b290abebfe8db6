import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { spawn } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import { build } from 'esbuild';
import { S3Storage, type S3StorageConfig } from '../../../electron/services/storage/s3-storage';
import { MultipartJournal } from '../../../electron/services/storage/multipart-journal';
import { StorageError } from '../../../electron/services/storage/storage-errors';
import { openDatabase } from '../../../electron/services/database/open-database';
import { migrations } from '../../../electron/services/database/migrations';
import { startS3rver, s3rverCredentials, type RunningServer } from '../../support/object-servers';
import { projectRoot } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { rcloneEnv, runTool, sha256Of, sha256OfFile, text, writeRandomFile } from './storage-test-support';

const MiB = 1024 * 1024;
let server: RunningServer;
let scratch: { dir: string; cleanup: () => void };

beforeAll(async () => {
  scratch = makeTempDir('torsh-s3-test-');
  server = await startS3rver(['depot-test', 'depot-resume', 'depot-big']);
});
afterAll(async () => {
  await server?.stop();
  scratch?.cleanup();
});

function storage(overrides: Partial<S3StorageConfig> = {}): S3Storage {
  return new S3Storage({
    bucket: 'depot-test',
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: s3rverCredentials,
    streamedChecksums: false,
    partSizeBytes: 5 * MiB,
    concurrency: 4,
    ...overrides,
  });
}

describe('S3Storage against s3rver', () => {
  it('puts, gets (whole and ranges), heads with metadata and Cache-Control, lists with pages, copies and deletes', async () => {
    const s3 = storage({ prefix: 'team/a' });
    const bytes = Buffer.from('0123456789'.repeat(1000));
    const written = await s3.put('models/one.bin', Readable.from([bytes]), {
      contentType: 'application/x-torshpkg',
      cacheControl: 'public, max-age=31536000, immutable',
      metadata: { digest: 'sha256:abc', 'Package-Name': 'resnet' },
    });
    expect(written).toMatchObject({ key: 'models/one.bin', size: bytes.length });
    const info = await s3.head('models/one.bin');
    expect(info).toMatchObject({
      size: bytes.length,
      contentType: 'application/x-torshpkg',
      cacheControl: 'public, max-age=31536000, immutable',
      metadata: { digest: 'sha256:abc', 'package-name': 'resnet' },
    });
    expect(info?.etag).toMatch(/^[0-9a-f]{32}/);
    expect(info?.lastModified).toBeInstanceOf(Date);
    expect(await text(await s3.get('models/one.bin'))).toBe(bytes.toString());
    expect(await text(await s3.get('models/one.bin', { range: { start: 5, end: 14 } }))).toBe('5678901234');

    // Keys live under the prefix in the bucket, as any S3 tool sees them.
    const unprefixed = storage();
    expect(await unprefixed.head('team/a/models/one.bin')).toMatchObject({ size: bytes.length });

    for (let index = 0; index < 7; index += 1) await s3.put(`many/${index}`, Readable.from([Buffer.from(`object ${index}`)]));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await s3.list('many/', { limit: 3, ...(cursor ? { cursor } : {}) });
      pages += 1;
      seen.push(...page.objects.map((object) => object.key));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['many/0', 'many/1', 'many/2', 'many/3', 'many/4', 'many/5', 'many/6']);

    const copied = await s3.copy('models/one.bin', 'models/copy.bin');
    expect(copied).toMatchObject({ size: bytes.length, cacheControl: 'public, max-age=31536000, immutable', metadata: { digest: 'sha256:abc' } });
    expect(await text(await s3.get('models/copy.bin'))).toBe(bytes.toString());

    const usage = await s3.usage();
    expect(usage).toEqual({ objects: 9, bytes: 2 * bytes.length + 7 * 'object 0'.length, capacityBytes: null });

    await s3.delete('models/copy.bin');
    expect(await s3.head('models/copy.bin')).toBeNull();
    await s3.delete('models/copy.bin'); // deleting twice is fine
    await expect(s3.get('models/copy.bin')).rejects.toMatchObject({ kind: 'NotFound', code: 'NOT_FOUND' });
  });

  it('presigns GET and PUT URLs that plain HTTP clients can use', async () => {
    const s3 = storage();
    await s3.put('presigned/source', Readable.from([Buffer.from('signed bytes')]));
    const getUrl = await s3.presignGet('presigned/source', 300);
    expect(getUrl).toContain('X-Amz-Signature=');
    const answer = await fetch(getUrl);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('signed bytes');

    const putUrl = await s3.presignPut('presigned/uploaded', 300);
    expect((await fetch(putUrl, { method: 'PUT', body: 'put through a URL' })).status).toBe(200);
    expect(await text(await s3.get('presigned/uploaded'))).toBe('put through a URL');
  });

  it('types its errors: missing bucket, unreachable endpoint, bad configuration', async () => {
    await expect(storage({ bucket: 'no-such-bucket' }).check()).rejects.toMatchObject({ kind: 'InvalidConfig', code: 'VALIDATION_FAILED' });
    const closed = storage({ endpoint: 'http://127.0.0.1:1' });
    const failure = await closed.check().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StorageError);
    expect(failure).toMatchObject({ kind: 'Unavailable', code: 'UNAVAILABLE' });
    expect(() => storage({ bucket: 'X' })).toThrow(/Invalid bucket name/);
    expect(() => storage({ partSizeBytes: MiB })).toThrow(/Part size/);
    expect(() => storage({ endpoint: 'ftp://example' })).toThrow(/Invalid endpoint/);
  });

  it('uploads 256 MiB in parts from a stream and from a file, byte for byte', async () => {
    const file = path.join(scratch.dir, 'big.bin');
    const digest = writeRandomFile(file, 256 * MiB);
    const s3 = storage({ bucket: 'depot-big', partSizeBytes: 16 * MiB, concurrency: 4 });
    let progress = 0;
    const fromFile = await s3.putFile('big/from-file', file, { onProgress: (sent) => (progress = sent), cacheControl: 'no-store' });
    expect(fromFile.size).toBe(256 * MiB);
    expect(progress).toBe(256 * MiB);
    expect(await sha256Of(await s3.get('big/from-file'))).toBe(digest);
    expect((await s3.head('big/from-file'))?.cacheControl).toBe('no-store');

    // Parallel ranged download to a file (16 parts, 4 at a time), atomic.
    const downloaded = path.join(scratch.dir, 'downloaded.bin');
    expect((await s3.downloadToFile('big/from-file', downloaded)).size).toBe(256 * MiB);
    expect(await sha256OfFile(downloaded)).toBe(digest);
    await expect(s3.downloadToFile('big/missing', path.join(scratch.dir, 'missing.bin'))).rejects.toMatchObject({ kind: 'NotFound' });
    expect(readdirSync(scratch.dir).filter((name) => name.includes('missing') || name.includes('.tmp-'))).toEqual([]);

    const fromStream = await s3.put('big/from-stream', (await import('node:fs')).createReadStream(file), { metadata: { origin: 'stream' } });
    expect(fromStream).toMatchObject({ size: 256 * MiB, metadata: { origin: 'stream' } });
    expect(await sha256Of(await s3.get('big/from-stream'))).toBe(digest);
  }, 300_000);

  it('resumes a multipart upload after the uploading process is killed', async () => {
    const bundle = path.join(scratch.dir, 'upload-child.cjs');
    // The bundle keeps the SDK's lazy import(), which ignores NODE_PATH: give it the project's node_modules.
    symlinkSync(path.join(projectRoot, 'node_modules'), path.join(scratch.dir, 'node_modules'), 'junction');
    await build({
      entryPoints: [path.join(__dirname, 'fixtures', 'multipart-upload-child.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['better-sqlite3', '@aws-sdk/*', '@smithy/*'],
      logLevel: 'error',
    });
    const file = path.join(scratch.dir, 'resume.bin');
    const digest = writeRandomFile(file, 64 * MiB);
    const databaseFile = path.join(scratch.dir, 'resume.sqlite');
    openDatabase(databaseFile, migrations).close();

    const child = spawn(process.execPath, [bundle, databaseFile, server.endpoint, 'depot-resume', 'resumed/object', file], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let childOutput = '';
    child.stdout.on('data', (chunk: Buffer) => (childOutput += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (childOutput += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const reader = new BetterSqlite3(databaseFile, { readonly: true });
    try {
      // Kill it once a few parts are journaled (polling the journal, not sleeping a fixed time).
      const deadline = Date.now() + 120_000;
      let parts = 0;
      while (parts < 3 && Date.now() < deadline && child.exitCode === null) {
        parts = (reader.prepare('SELECT COUNT(*) AS n FROM storage_multipart_parts').get() as { n: number }).n;
        if (parts < 3) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(childOutput).not.toContain('uploaded');
      expect(parts).toBeGreaterThanOrEqual(3);
      child.kill('SIGKILL');
      await exited;
    } finally {
      reader.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }

    const db = openDatabase(databaseFile, migrations);
    try {
      const journaledParts = (db.prepare('SELECT COUNT(*) AS n FROM storage_multipart_parts').get() as { n: number }).n;
      expect(journaledParts).toBeGreaterThanOrEqual(3);
      const s3 = storage({ bucket: 'depot-resume', concurrency: 1, journal: new MultipartJournal(db) });
      expect(await s3.head('resumed/object')).toBeNull();
      const progress: number[] = [];
      await s3.putFile('resumed/object', file, { onProgress: (sent) => progress.push(sent) });
      // The first progress report already counts the parts uploaded before the kill.
      expect(progress[0]).toBeGreaterThanOrEqual(journaledParts * 5 * MiB);
      expect(await sha256Of(await s3.get('resumed/object'))).toBe(digest);
      expect((db.prepare('SELECT COUNT(*) AS n FROM storage_multipart_uploads').get() as { n: number }).n).toBe(0);

      // An interrupted upload whose source file is gone can never resume: the next multipart upload aborts it.
      const journal = new MultipartJournal(db);
      journal.begin('s3:' + server.endpoint + '/depot-resume', 'gone/object', { path: path.join(scratch.dir, 'deleted-source.bin'), size: 1, mtimeMs: 0 }, 'orphan-upload-id', 5 * MiB);
      await s3.putFile('resumed/again', file);
      expect((db.prepare('SELECT COUNT(*) AS n FROM storage_multipart_uploads').get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
  }, 300_000);

  it('aborts a cancelled multipart upload (AbortMultipartUpload is sent) and forgets it', async () => {
    const file = path.join(scratch.dir, 'cancel.bin');
    writeRandomFile(file, 40 * MiB);
    const db = new BetterSqlite3(':memory:');
    db.pragma('foreign_keys = ON');
    for (const migration of migrations) migration.up(db);
    // s3rver does not implement AbortMultipartUpload, so watch the wire through a recording proxy.
    const proxy = await startRecordingProxy(server.port);
    try {
      const s3 = storage({ endpoint: proxy.endpoint, concurrency: 1, journal: new MultipartJournal(db) });
      const controller = new AbortController();
      const upload = s3.putFile('cancelled/object', file, { signal: controller.signal, onProgress: (sent) => (sent >= 10 * MiB ? controller.abort() : undefined) });
      await expect(upload).rejects.toThrow();
      expect((db.prepare('SELECT COUNT(*) AS n FROM storage_multipart_uploads').get() as { n: number }).n).toBe(0);
      expect(await s3.head('cancelled/object')).toBeNull();
      const uploadId = /uploadId=([^&]+)/.exec(proxy.requests.find((line) => line.startsWith('PUT ') && line.includes('partNumber=')) ?? '')?.[1];
      expect(uploadId).toBeDefined();
      expect(proxy.requests).toContain(`DELETE /depot-test/cancelled/object?uploadId=${uploadId}&x-id=AbortMultipartUpload`);
      expect(proxy.requests.some((line) => line.startsWith('POST ') && line.includes(`uploadId=${uploadId}`))).toBe(false);
    } finally {
      await proxy.close();
      db.close();
    }
  }, 120_000);

  it('writes plain S3 objects: rclone lists them and `rclone check --download` finds no difference', async () => {
    const s3 = storage({ prefix: 'rclone-area' });
    const local = path.join(scratch.dir, 'rclone-local');
    mkdirSync(path.join(local, 'nested'), { recursive: true });
    const files = { 'small.txt': 1000, 'nested/medium.bin': 3 * MiB, 'nested/multipart.bin': 12 * MiB };
    for (const [name, size] of Object.entries(files)) {
      writeRandomFile(path.join(local, name), size);
      await s3.putFile(name, path.join(local, name), { metadata: { source: 'torsh-depot' } });
    }
    const configFile = path.join(scratch.dir, 'rclone.conf');
    writeFileSync(
      configFile,
      `[depot]\ntype = s3\nprovider = Other\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\nendpoint = ${server.endpoint}\nregion = us-east-1\nforce_path_style = true\n`,
    );
    const env = rcloneEnv(configFile);
    const listing = await runTool('rclone', ['lsjson', '-R', '--files-only', 'depot:depot-test/rclone-area'], env);
    expect(listing.stderr).toBe('');
    const entries = (JSON.parse(listing.stdout) as Array<{ Path: string; Size: number }>).map((entry) => [entry.Path, entry.Size]).sort();
    expect(entries).toEqual(Object.entries(files).sort());
    const check = await runTool('rclone', ['check', '--download', local, 'depot:depot-test/rclone-area'], env);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toMatch(/0 differences found/);
    for (const name of Object.keys(files)) expect(statSync(path.join(local, name)).size).toBe(files[name as keyof typeof files]);
    expect(await sha256OfFile(path.join(local, 'nested/multipart.bin'))).toBe(await sha256Of(await s3.get('nested/multipart.bin')));
    expect(readFileSync(configFile, 'utf8')).toContain('force_path_style');
  }, 120_000);
});

/** Forwards to s3rver and records `METHOD path?query` of every request. */
async function startRecordingProxy(targetPort: number): Promise<{ endpoint: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const proxy = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: request.method, path: request.url, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      proxy.closeAllConnections();
      proxy.close(() => resolve());
    }),
  };
}
