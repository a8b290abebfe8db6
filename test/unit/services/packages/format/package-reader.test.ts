import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import yazl from 'yazl';
import { DepotError } from '../../../../../shared/errors';
import { inspectPackage, openPackageEntry, type PackageInspection } from '../../../../../electron/services/packages/format';
import { makeTempDir } from '../../../../support/temp-dir';

const run = promisify(execFile);
const fixtureScript = path.resolve(__dirname, '../../../../fixtures/packages/make-reference-package.py');

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function tempDir(): string {
  const temp = makeTempDir('torsh-format-');
  cleanups.push(temp.cleanup);
  return temp.dir;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface SourceFile {
  type: string;
  name: string;
  bytes: Buffer;
  source: string;
}

/** Writes the source files a reference package is built from. */
function sources(dir: string, files: Array<{ type: string; name: string; bytes: Buffer }>): SourceFile[] {
  return files.map((file, index) => {
    const source = path.join(dir, 'sources', `${index}-${path.basename(file.name)}`);
    mkdirSync(path.dirname(source), { recursive: true });
    writeFileSync(source, file.bytes);
    return { ...file, source };
  });
}

const defaultFiles = (): Array<{ type: string; name: string; bytes: Buffer }> => [
  { type: 'Model', name: 'encoder/weights.pt', bytes: randomBytes(300_000) },
  { type: 'Config', name: 'model.yaml', bytes: Buffer.from('layers: 12\nhidden: 768\n'.repeat(50)) },
  { type: 'Data', name: 'vocab/tokens.csv', bytes: Buffer.from('id,token\n1,hello\n2,world\n'.repeat(1000)) },
  { type: 'Source', name: 'model.rs', bytes: Buffer.from('pub struct Model;\n') },
  { type: 'Documentation', name: 'README.md', bytes: Buffer.from('# Model\n') },
  { type: 'License', name: 'LICENSE.txt', bytes: Buffer.from('Apache-2.0\n') },
];

/** Runs the Python fixture writer; returns the package path. */
async function referencePackage(dir: string, files: SourceFile[], flags: string[] = []): Promise<string> {
  const out = path.join(dir, `ref-${randomBytes(3).toString('hex')}.torshpkg`);
  const resourceArgs = files.flatMap((file) => ['--resource', `${file.type}:${file.name}=${file.source}`]);
  await run('python3', [fixtureScript, 'write', out, ...resourceArgs, ...flags]);
  return out;
}

async function expectDefect(promise: Promise<unknown>, code: string, reason: string): Promise<DepotError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}/${reason}, but it succeeded`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DepotError);
  expect({ code: (error as DepotError).code, reason: (error as DepotError).reason }).toEqual({ code, reason });
  return error as DepotError;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

describe('inspectPackage on packages written like the reference crate', () => {
  it('reads types, sub-paths, sizes, sha256 and sidecar metadata (Deflate + sidecars)', async () => {
    const dir = tempDir();
    const files = sources(dir, defaultFiles());
    const file = await referencePackage(dir, files, ['--name', 'quokka-net', '--version', '1.2.3-beta.1+build.5', '--dependency', 'torsh-core=^0.1.0', '--resource-metadata', 'framework=torsh']);
    const progress: Array<[number, number]> = [];
    const inspection = await inspectPackage(file, { onProgress: (done, total) => progress.push([done, total]) });

    expect(inspection.manifest.name).toBe('quokka-net');
    expect(inspection.manifest.version).toBe('1.2.3-beta.1+build.5');
    expect(inspection.manifest.resources).toEqual([]);
    expect(inspection.dependencies).toEqual({ 'torsh-core': '^0.1.0' });
    expect(inspection.fileSize).toBe(readFileSync(file).length);
    expect(inspection.entryCount).toBe(1 + files.length * 2);

    const expected = [
      { path: 'config/model.yaml', name: 'model.yaml', type: 'Config' },
      { path: 'data/vocab/tokens.csv', name: 'vocab/tokens.csv', type: 'Data' },
      { path: 'docs/README.md', name: 'README.md', type: 'Documentation' },
      { path: 'models/encoder/weights.pt', name: 'encoder/weights.pt', type: 'Model' },
      { path: 'resources/LICENSE.txt', name: 'LICENSE.txt', type: 'License' },
      { path: 'src/model.rs', name: 'model.rs', type: 'Source' },
    ];
    expect(inspection.resources.map(({ path: p, name, type }) => ({ path: p, name, type }))).toEqual(expected);
    for (const resource of inspection.resources) {
      const source = files.find((f) => resource.name === f.name);
      expect(source).toBeDefined();
      expect(resource.size).toBe(source?.bytes.length);
      expect(resource.sha256).toBe(sha256(source?.bytes ?? Buffer.alloc(0)));
      expect(resource.compression).toBe('deflate');
      expect(resource.metadata).toEqual({ sha256: resource.sha256, framework: 'torsh' });
    }
    const csv = inspection.resources.find((r) => r.path === 'data/vocab/tokens.csv');
    expect(csv && csv.compressedSize < csv.size).toBe(true);

    const total = files.reduce((sum, f) => sum + f.bytes.length, 0);
    expect(progress.at(-1)).toEqual([total, total]);
    expect(progress.every(([done], index) => index === 0 || done >= (progress[index - 1]?.[0] ?? 0))).toBe(true);
  });

  it('reads Stored entries without sidecars, typing by folder', async () => {
    const dir = tempDir();
    const files = sources(dir, defaultFiles());
    const inspection = await inspectPackage(await referencePackage(dir, files, ['--compression', 'stored', '--no-sidecars']));
    expect(inspection.resources).toHaveLength(files.length);
    for (const resource of inspection.resources) {
      expect(resource.compression).toBe('stored');
      expect(resource.compressedSize).toBe(resource.size);
      expect(resource.metadata).toEqual({});
      expect(resource.sha256).toBe(sha256(files.find((f) => f.name === resource.name)?.bytes ?? Buffer.alloc(0)));
    }
  });

  it('hashes a Stored entry larger than one read (4 MiB) the same as the whole bytes, and reports every byte', async () => {
    const dir = tempDir();
    const big = randomBytes(9 * 1024 * 1024 + 17);
    const files = sources(dir, [{ type: 'Model', name: 'big.pt', bytes: big }, ...defaultFiles()]);
    const progress: number[] = [];
    const inspection = await inspectPackage(await referencePackage(dir, files, ['--compression', 'stored', '--no-sidecars']), { onProgress: (done) => progress.push(done) });
    expect(inspection.resources.find((resource) => resource.name === 'big.pt')?.sha256).toBe(sha256(big));
    expect(progress.at(-1)).toBe(files.reduce((sum, file) => sum + file.bytes.length, 0));
  });

  it('checks resources[] listed in the manifest and takes their type from it', async () => {
    const dir = tempDir();
    const files = sources(dir, [
      { type: 'Text', name: 'notes.md', bytes: Buffer.from('just text') },
      { type: 'Model', name: 'w.pt', bytes: randomBytes(1000) },
    ]);
    const inspection = await inspectPackage(await referencePackage(dir, files, ['--list-resources']));
    // By extension `.md` would be Documentation; the manifest says Text and wins.
    expect(inspection.resources.find((r) => r.path === 'resources/notes.md')?.type).toBe('Text');
    expect(inspection.manifest.resources.map((r) => r.name).sort()).toEqual(['notes.md', 'w.pt']);
  });

  it('streams one entry with openPackageEntry', async () => {
    const dir = tempDir();
    const files = sources(dir, defaultFiles());
    const file = await referencePackage(dir, files);
    const weights = files[0];
    expect(await readStream(await openPackageEntry(file, 'models/encoder/weights.pt'))).toEqual(weights?.bytes);
    await expectDefect(openPackageEntry(file, 'models/nope.pt'), 'NOT_FOUND', 'entry-not-found');
    await expectDefect(openPackageEntry(file, '../MANIFEST.json'), 'VALIDATION_FAILED', 'bad-entry-path');
  });
});

describe('inspectPackage rejects defects with a precise reason', () => {
  const cases: Array<{ title: string; flags: string[]; code?: string; reason: string }> = [
    { title: 'a zip-slip name', flags: ['--zip-slip'], reason: 'zip-slip' },
    { title: 'an absolute name', flags: ['--absolute-name'], reason: 'absolute-path' },
    { title: 'a drive-letter name', flags: ['--raw-entry', 'C:/Windows/evil.dll'], reason: 'absolute-path' },
    { title: 'a backslash name', flags: ['--raw-entry', 'models\\evil.pt'], reason: 'backslash-in-name' },
    { title: 'an empty path segment', flags: ['--raw-entry', 'models//w.pt'], reason: 'empty-segment' },
    { title: 'a NUL in a name', flags: ['--raw-entry-hex', Buffer.from('models/a\u0000b.pt').toString('hex')], reason: 'control-character' },
    { title: 'duplicate names', flags: ['--duplicate-name'], reason: 'duplicate-entry' },
    {
      title: 'names equal after Unicode normalization',
      flags: ['--raw-entry-hex', Buffer.from('data/caf\u00e9.csv').toString('hex'), '--raw-entry-hex', Buffer.from('data/cafe\u0301.csv').toString('hex')],
      reason: 'duplicate-entry',
    },
    { title: 'a wrong sidecar sha256', flags: ['--wrong-sidecar-sha256'], code: 'DIGEST_MISMATCH', reason: 'sidecar-sha256-mismatch' },
    { title: 'a wrong manifest sha256', flags: ['--wrong-manifest-sha256', '--no-sidecars'], code: 'DIGEST_MISMATCH', reason: 'manifest-sha256-mismatch' },
    { title: 'a manifest resource that is not there', flags: ['--phantom-resource'], reason: 'resource-missing' },
    { title: 'a bad semver', flags: ['--version', '1.0'], reason: 'bad-semver' },
    { title: 'a bad package name', flags: ['--name', 'Bad Name'], reason: 'bad-name' },
    { title: 'a bad dependency range', flags: ['--dependency', 'torsh-core=not a range!'], reason: 'bad-dependency' },
    { title: 'format_version 2.0.0', flags: ['--format-version', '2.0.0'], reason: 'unsupported-format-version' },
    { title: 'a non-semver format_version', flags: ['--format-version', 'one'], reason: 'bad-format-version' },
    { title: 'a missing manifest', flags: ['--missing-manifest'], reason: 'missing-manifest' },
    { title: 'an oversized manifest', flags: ['--oversized-manifest', String(1024 * 1024 + 1)], reason: 'manifest-too-large' },
    { title: 'a truncated file', flags: ['--truncate', '0.6'], reason: 'truncated' },
    { title: 'an orphan sidecar', flags: ['--raw-entry', 'models/ghost.pt.metadata'], reason: 'orphan-sidecar' },
    { title: 'a file inside a file', flags: ['--raw-entry', 'models/encoder/weights.pt/inner.bin'], reason: 'entry-path-conflict' },
    { title: 'a compression bomb', flags: ['--bomb', 'data/zeros.bin=4000000'], reason: 'compression-ratio' },
    { title: 'corrupt Stored data', flags: ['--compression', 'stored', '--no-sidecars', '--corrupt-data'], code: 'DIGEST_MISMATCH', reason: 'crc-mismatch' },
  ];

  for (const { title, flags, code, reason } of cases) {
    it(`${title} → ${reason}`, async () => {
      const dir = tempDir();
      const files = sources(dir, defaultFiles().slice(0, 3));
      await expectDefect(inspectPackage(await referencePackage(dir, files, flags)), code ?? 'INVALID_PACKAGE', reason);
    });
  }

  it('garbage → not-a-zip, empty file → not-a-zip, missing file → NOT_FOUND', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'garbage.torshpkg'), randomBytes(5000));
    writeFileSync(path.join(dir, 'empty.torshpkg'), '');
    await expectDefect(inspectPackage(path.join(dir, 'garbage.torshpkg')), 'INVALID_PACKAGE', 'not-a-zip');
    await expectDefect(inspectPackage(path.join(dir, 'empty.torshpkg')), 'INVALID_PACKAGE', 'not-a-zip');
    await expectDefect(inspectPackage(path.join(dir, 'absent.torshpkg')), 'NOT_FOUND', 'file-not-found');
  });

  it('applies the limits before reading data', async () => {
    const dir = tempDir();
    const files = sources(dir, defaultFiles());
    const file = await referencePackage(dir, files, ['--resource-metadata', `note=${'n'.repeat(2000)}`]);
    await expectDefect(inspectPackage(file, { limits: { maxEntries: 5 } }), 'INVALID_PACKAGE', 'too-many-entries');
    await expectDefect(inspectPackage(file, { limits: { maxTotalUncompressedBytes: 100_000 } }), 'INVALID_PACKAGE', 'total-size-limit');
    await expectDefect(inspectPackage(file, { limits: { maxManifestBytes: 100 } }), 'INVALID_PACKAGE', 'manifest-too-large');
    await expectDefect(inspectPackage(file, { limits: { maxSidecarBytes: 1000 } }), 'INVALID_PACKAGE', 'sidecar-too-large');
    // A per-entry ratio limit only bites above 1 MiB: the highly compressible CSV passes.
    await expect(inspectPackage(file, { limits: { maxCompressionRatio: 2 } })).resolves.toBeDefined();
  });

  it('stops with CANCELLED when the signal aborts mid-hash', async () => {
    const dir = tempDir();
    const files = sources(dir, [{ type: 'Model', name: 'big.pt', bytes: randomBytes(8 * 1024 * 1024) }]);
    const file = await referencePackage(dir, files, ['--compression', 'stored']);
    const controller = new AbortController();
    await expectDefect(inspectPackage(file, { signal: controller.signal, onProgress: () => controller.abort() }), 'CANCELLED', 'aborted');
    const aborted = new AbortController();
    aborted.abort();
    await expectDefect(inspectPackage(file, { signal: aborted.signal }), 'CANCELLED', 'aborted');
  });
});

describe('ZIP64', () => {
  it('reads a package whose entries and end record use ZIP64 (yazl forceZip64Format)', async () => {
    const dir = tempDir();
    const weights = randomBytes(200_000);
    const config = Buffer.from('layers: 2\n'.repeat(100));
    const manifest = {
      name: 'zip64-model',
      version: '0.1.0',
      format_version: '1.0.0',
      created_at: '2025-01-02T03:04:05.123456789Z',
      author: null,
      description: null,
      license: null,
      modules: [],
      resources: [{ name: 'w.pt', resource_type: 'Model', size: weights.length, sha256: sha256(weights), compression: null }],
      dependencies: {},
      metadata: {},
      signature: null,
    };
    const file = path.join(dir, 'zip64.torshpkg');
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), 'MANIFEST.json', { forceZip64Format: true });
    zip.addBuffer(weights, 'models/w.pt', { forceZip64Format: true, compress: false });
    zip.addBuffer(config, 'config/c.yaml', { forceZip64Format: true });
    zip.end({ forceZip64Format: true });
    await new Promise<void>((resolve, reject) => {
      zip.outputStream.pipe(createWriteStream(file)).on('finish', resolve).on('error', reject);
    });
    // Sanity: the end of the file carries the ZIP64 end-of-central-directory locator.
    expect(readFileSync(file).includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]))).toBe(true);

    const inspection: PackageInspection = await inspectPackage(file);
    expect(inspection.resources.map((r) => [r.path, r.type, r.size, r.sha256])).toEqual([
      ['config/c.yaml', 'Config', config.length, sha256(config)],
      ['models/w.pt', 'Model', weights.length, sha256(weights)],
    ]);
    const { stdout } = await run('python3', [fixtureScript, 'verify', file]);
    expect((JSON.parse(stdout) as { ok: boolean }).ok).toBe(true);
  });
});
