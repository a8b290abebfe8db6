import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createCore } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost } from '../../../electron/host/http-host';
import { createExportRoutes } from '../../../electron/host/export-routes';
import { cheapEncryption, runContractJob as finishedJob } from '../../support/contract-jobs';
import { preparedDownloadSchema } from '../../../shared/domain/registry';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('GET /session/exports/{id} (decrypted downloads for the browser)', () => {
  it('serves a decrypted version once, with the session only, and leaves nothing behind', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger, encryptorTuning: cheapEncryption });
    cleanups.push(() => core.close());
    const host = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, sessionRoutes: [createExportRoutes(core)] });
    cleanups.push(() => host.close());
    const file = await makeTestPackage(temp.dir, { name: 'boxed', version: '3.1.4' });
    expect((await finishedJob(core, 'packages.publish', { source: { kind: 'path', path: file }, encrypt: { passphrase: 'the right one' } })).status).toBe('succeeded');
    const exportsDir = path.join(core.tmpDir, 'exports');

    const wrong = await finishedJob(core, 'packages.prepareDownload', { name: 'boxed', version: '3.1.4', decrypt: { passphrase: 'a wrong one' } });
    expect(wrong.error).toMatchObject({ code: 'UNAUTHORIZED', reason: 'bad-passphrase' });
    expect(readdirSync(exportsDir)).toEqual([]);

    const right = await finishedJob(core, 'packages.prepareDownload', { name: 'boxed', version: '3.1.4', decrypt: { passphrase: 'the right one' } });
    const prepared = preparedDownloadSchema.parse(right.result);
    expect(prepared.fileName).toBe('boxed-3.1.4.torshpkg');
    const url = `http://127.0.0.1:${host.port}/session/exports/${prepared.downloadId}`;
    expect((await fetch(url)).status).toBe(401);
    const response = await fetch(`${url}?token=${host.token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="boxed-3.1.4.torshpkg"');
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(readFileSync(file)));
    await expect.poll(() => readdirSync(exportsDir)).toEqual([]);
    expect((await fetch(`${url}?token=${host.token}`)).status).toBe(404);
  });
});
