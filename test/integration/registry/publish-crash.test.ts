import { afterEach, describe, expect, it } from 'vitest';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServe, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';
import { partialUploadBytes } from '../hardening/serve-test-host';

const adminKey = 'crash-test-admin-key-0123456789';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Streams the file slowly so the host can be killed while the upload is half way. */
function startSlowUpload(url: string, file: string): http.ClientRequest {
  const size = statSync(file).size;
  const request = http.request(url, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}`, 'Content-Length': String(size) } });
  request.on('error', () => undefined); // The host dies mid-request: that is the point.
  const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
  source.on('data', (chunk) => {
    source.pause();
    request.write(chunk, () => setTimeout(() => source.resume(), 5));
  });
  source.on('end', () => request.end());
  return request;
}

describe('publish crash safety', () => {
  it('kill -9 during a 200 MiB publish leaves no version and no temp files; re-publishing works', async () => {
    const data = makeTempDir();
    const scratch = makeTempDir();
    cleanups.push(data.cleanup, scratch.cleanup);
    const file = await makeTestPackage(scratch.dir, { name: 'crashy', version: '1.0.0', files: { 'models/weights.pt': 200 * 1024 * 1024 } });

    const first: ServingHost = await startServe(['--port', '0', '--data-dir', data.dir], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
    cleanups.push(() => first.stop());
    const origin = new URL(first.url).origin;
    const upload = startSlowUpload(`${origin}/api/v1/packages/crashy/1.0.0`, file);
    await expect.poll(() => partialUploadBytes(data.dir), { timeout: 60_000, interval: 20 }).toBeGreaterThan(32 * 1024 * 1024);
    expect(partialUploadBytes(data.dir)).toBeLessThan(statSync(file).size);
    first.child.kill('SIGKILL');
    await first.stop();
    upload.destroy();

    const second = await startServe(['--port', '0', '--data-dir', data.dir], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
    cleanups.push(() => second.stop());
    const base = `${new URL(second.url).origin}/api/v1`;
    expect(readdirSync(path.join(data.dir, 'tmp'))).toEqual([]);
    const auth = { headers: { Authorization: `Bearer ${adminKey}` } };
    expect((await fetch(`${base}/packages/crashy/1.0.0`, auth)).status).toBe(404);
    expect((await fetch(`${base}/packages/crashy`, auth)).status).toBe(404);
    const blobs = path.join(data.dir, 'blobs', 'sha256');
    expect(existsSync(blobs) ? readdirSync(blobs) : []).toEqual([]);

    const retry = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${base}/packages/crashy/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}`, 'Content-Length': String(statSync(file).size) } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      createReadStream(file).pipe(request);
    });
    expect(retry).toBe(201);
    expect((await (await fetch(`${base}/packages/crashy/1.0.0`, auth)).json()).size).toBe(statSync(file).size);
  });
});
