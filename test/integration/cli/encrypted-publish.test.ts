import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCore, type Core } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { startHttpHost, type RunningHost } from '../../../electron/host/http-host';
import { createRegistryRoutes } from '../../../electron/host/registry-routes';
import { cheapEncryption } from '../../support/contract-jobs';
import { projectRoot, runCliProcess } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';
import { makeTestPackage } from '../../support/packages';
import { thrown } from '../../support/depot-errors';

// `publish --passphrase-file/--recipient` encrypts on the publisher's machine: the registry stores ciphertext
// it cannot read, and `pull` (or `age -d`) gets the plaintext back.
const temp = makeTempDir('torsh-depot-encrypted-publish-');
const adminKey = 'encrypted-publish-admin-key-0123456789';
let core: Core;
let host: RunningHost;
let registry: string;

beforeAll(async () => {
  core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger, encryptorTuning: cheapEncryption });
  core.access.configureDefaultVisibility('public');
  core.access.ensureAdminKey(adminKey);
  const registryRoutes = createRegistryRoutes({ registry: core.registry, authorizer: core.authorizer, tmpDir: core.tmpDir, maxPackageBytes: () => 1 << 30, logger: silentLogger });
  host = await startHttpHost({ core, host: '127.0.0.1', port: 0, staticDir: null, apiRoutes: [registryRoutes] });
  registry = new URL(host.url).origin;
  writeFileSync(path.join(temp.dir, 'pass.txt'), 'publish me sealed\n');
});

afterAll(async () => {
  await host?.close();
  await core?.close();
  temp.cleanup();
});

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function cli(...args: string[]): ReturnType<typeof runCliProcess> {
  return runCliProcess(args, { ...process.env, TORSH_DEPOT_API_KEY: adminKey });
}

describe('torsh-depot publish, encrypted', () => {
  it('encrypts with a passphrase before uploading; the listing shows the manifest texts but no resources; pull decrypts it', async () => {
    const file = await makeTestPackage(temp.dir, { name: 'sealed', version: '1.0.0', description: 'Sealed weights', dependencies: { base: '^1.0.0' }, files: { 'models/w.pt': 300_000 } });
    const published = await cli('publish', file, '--registry', registry, '--passphrase-file', path.join(temp.dir, 'pass.txt'), '--tag', 'private');
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toContain('published sealed@1.0.0');
    expect(published.stdout).toContain('encrypted');
    const metadata = core.registry.getVersion('sealed', '1.0.0');
    expect(metadata).toMatchObject({ encryption: { algorithm: 'aes-256-gcm', unlock: 'passphrase' }, resources: [], description: 'Sealed weights', tags: ['private'], dependencies: { base: '^1.0.0' } });
    expect(metadata.digest).not.toBe(`sha256:${sha256(file)}`);

    const out = path.join(temp.dir, 'pulled');
    mkdirSync(out);
    const pulled = await cli('pull', 'sealed@1.0.0', '--registry', registry, '-o', out, '--passphrase-file', path.join(temp.dir, 'pass.txt'));
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readdirSync(out)).toEqual(['sealed-1.0.0.torshpkg']);
    expect(sha256(path.join(out, 'sealed-1.0.0.torshpkg'))).toBe(sha256(file));

    // A sealed publish onto a published version is refused, as in the UI.
    const again = await cli('publish', file, '--registry', registry, '--passphrase-file', path.join(temp.dir, 'pass.txt'));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already published');
  });

  it('encrypts to an age recipient that `age -d` opens; the registry tells the unlock kind from the file itself', async () => {
    const identity = path.join(temp.dir, 'bob.key');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
    const file = await makeTestPackage(temp.dir, { name: 'for-bob', version: '2.0.0' });
    const published = await cli('publish', file, '--registry', registry, '--recipient', recipient);
    expect(published.code, published.stderr).toBe(0);
    expect(core.registry.getVersion('for-bob', '2.0.0').encryption).toEqual({ algorithm: 'chacha20-poly1305', unlock: 'recipients' });
    const blob = path.join(temp.dir, 'for-bob.age');
    writeFileSync(blob, Buffer.from(await (await fetch(`${registry}/api/v1/packages/for-bob/2.0.0/download`)).arrayBuffer()));
    const opened = path.join(temp.dir, 'for-bob.torshpkg');
    execFileSync('age', ['-d', '-i', identity, '-o', opened, blob]);
    expect(sha256(opened)).toBe(sha256(file));
  });

  it('refuses, changing nothing, a body that is not an encrypted file, a bad header and a bad package', async () => {
    const file = await makeTestPackage(temp.dir, { name: 'not-sealed', version: '1.0.0' });
    const sealedSample = path.join(temp.dir, 'sample.enc');
    execFileSync(process.execPath, [path.join(projectRoot, 'bin', 'torsh-depot.cjs'), 'encrypt', file, '-o', sealedSample, '--passphrase-file', path.join(temp.dir, 'pass.txt')]);
    const put = (headers: Record<string, string>, body: Buffer): Promise<Response> =>
      fetch(`${registry}/api/v1/packages/not-sealed/1.0.0`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}`, ...headers }, body: new Uint8Array(body) });
    const plain = await put({ 'X-Torsh-Encrypted': '{}' }, readFileSync(file));
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { error: { message: string } }).error.message).toContain('age');
    expect((await put({ 'X-Torsh-Encrypted': '{"dependencies": {"Bad Name": "1"}}' }, Buffer.from('TORSHENC'))).status).toBe(400);
    expect((await put({ 'X-Torsh-Encrypted': 'not json' }, Buffer.from('TORSHENC'))).status).toBe(400);
    // Well-formed headers with nothing after them are no packages either.
    for (const body of [Buffer.from('TORSHENC'), readFileSync(sealedSample).subarray(0, 110)]) {
      const truncated = await put({ 'X-Torsh-Encrypted': '{}' }, body);
      expect(truncated.status).toBe(400);
      expect(((await truncated.json()) as { error: { message: string } }).error.message).toMatch(/truncated/);
    }
    expect(thrown(() => core.registry.getVersion('not-sealed', '1.0.0'))).toMatchObject({ code: 'NOT_FOUND', reason: 'not-found' });
    // The package is checked on the publisher's machine before anything is encrypted or sent.
    const broken = path.join(temp.dir, 'broken.torshpkg');
    writeFileSync(broken, readFileSync(file).subarray(0, 200));
    const refused = await cli('publish', broken, '--registry', registry, '--passphrase-file', path.join(temp.dir, 'pass.txt'));
    expect(refused.code).toBe(1);
    expect(core.registry.listVersionRows(0, 100).rows.map((row) => row.name)).not.toContain('not-sealed');
  });
});
