import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DepotError } from '../../../../../shared/errors';
import { collectFolder, inspectPackage, openPackageEntry, packPackage, type PackInput } from '../../../../../electron/services/packages/format';
import { makeTempDir } from '../../../../support/temp-dir';

const run = promisify(execFile);
const fixtureScript = path.resolve(__dirname, '../../../../fixtures/packages/make-reference-package.py');

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function tempDir(): string {
  const temp = makeTempDir('torsh-writer-');
  cleanups.push(temp.cleanup);
  return temp.dir;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function writeTree(root: string, files: Record<string, Buffer | string>): void {
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(root, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

async function expectDefect(promise: Promise<unknown>, code: string, reason: string): Promise<void> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}/${reason}, but it succeeded`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DepotError);
  expect({ code: (error as DepotError).code, reason: (error as DepotError).reason }).toEqual({ code, reason });
}

interface PythonReport {
  ok: boolean;
  testzip: string | null;
  problems: string[];
  entries: string[];
  manifest_keys: string[];
  manifest: { resources: Array<{ name: string; resource_type: string; size: number; sha256: string; compression: string | null }> };
  resources: Array<{ path: string; type: string; size: number; sha256: string; metadata: Record<string, string>; compress_type: number }>;
}

async function pythonVerify(file: string): Promise<PythonReport> {
  const { stdout } = await run('python3', [fixtureScript, 'verify', file]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '{}' }));
  return JSON.parse(stdout) as PythonReport;
}

const folderContents = (): Record<string, Buffer | string> => ({
  'models/encoder/weights.pt': randomBytes(150_000),
  'models/decoder/weights.pt': randomBytes(90_000),
  'config/model.yaml': 'layers: 12\n'.repeat(200),
  'data/train/part-0.csv': 'a,b\n1,2\n'.repeat(2000),
  'docs/README.md': '# Quokka\n',
  'resources/LICENSE': 'Apache-2.0\n',
  'tokenizer.json': '{"vocab": {}}',
  'extra/notes.txt': 'some notes',
});

describe('collectFolder', () => {
  it('keeps sub-paths, types by top-level folder then extension, and skips symlinks', async () => {
    const root = tempDir();
    writeTree(root, folderContents());
    writeTree(root, { 'MANIFEST.json': '{}', 'models/decoder/weights.pt.metadata': '{}' });
    symlinkSync('/etc/passwd', path.join(root, 'data', 'passwd'));
    const files = await collectFolder(root);
    expect(files.map((f) => [f.entryPath, f.type])).toEqual([
      ['config/model.yaml', 'Config'],
      ['data/train/part-0.csv', 'Data'],
      ['docs/README.md', 'Documentation'],
      ['models/decoder/weights.pt', 'Model'],
      ['models/encoder/weights.pt', 'Model'],
      ['resources/LICENSE', 'License'],
      ['resources/extra/notes.txt', 'License'],
      ['resources/tokenizer.json', 'Metadata'],
    ]);
    expect(files.find((f) => f.entryPath === 'resources/extra/notes.txt')?.sourcePath).toBe(path.join(root, 'extra', 'notes.txt'));
  });
});

describe('packPackage', () => {
  it('round-trips through our reader, with sizes, hashes, types and per-file compression', async () => {
    const root = tempDir();
    const contents = folderContents();
    writeTree(path.join(root, 'src'), contents);
    const output = path.join(root, 'out', 'quokka-net-1.0.0.torshpkg');
    const progress: Array<[number, number]> = [];
    const result = await packPackage(
      {
        name: 'zoo/quokka-net',
        version: '1.0.0',
        files: await collectFolder(path.join(root, 'src')),
        description: 'A small marsupial detector',
        author: 'Zoo',
        license: 'Apache-2.0',
        dependencies: { 'torsh-core': '^0.1.0 || ~0.2', 'zoo/base': '>=1.0.0 <2' },
        metadata: { tags: 'vision,detection' },
      },
      output,
      { onProgress: (done, total) => progress.push([done, total]), now: () => new Date('2025-06-01T12:00:00Z') },
    );

    const bytes = readFileSync(output);
    expect(result.size).toBe(bytes.length);
    expect(result.sha256).toBe(sha256(bytes));
    expect(readdirSync(path.join(root, 'out'))).toEqual(['quokka-net-1.0.0.torshpkg']);
    expect(result.manifest.created_at).toBe('2025-06-01T12:00:00.000Z');

    const inspection = await inspectPackage(output);
    expect(inspection.manifest).toEqual(result.manifest);
    expect(inspection.dependencies).toEqual({ 'torsh-core': '^0.1.0 || ~0.2', 'zoo/base': '>=1.0.0 <2' });
    expect(inspection.resources).toHaveLength(8);
    const sourceFor = (entryPath: string): Buffer => {
      const relative = Object.keys(contents).find((key) => entryPath === key || entryPath.endsWith(`/${key}`)) ?? '';
      return Buffer.from(contents[relative] ?? '');
    };
    for (const resource of inspection.resources) {
      const source = sourceFor(resource.path);
      expect(resource.size).toBe(source.length);
      expect(resource.sha256).toBe(sha256(source));
      expect(resource.metadata).toEqual({ sha256: resource.sha256 });
      const listed = result.manifest.resources.find((r) => `${r.resource_type}:${r.name}` === `${resource.type}:${resource.name}`);
      expect(listed).toMatchObject({ size: resource.size, sha256: resource.sha256 });
      expect(listed?.compression).toBe(resource.compression === 'deflate' ? 'deflate' : null);
    }
    const byPath = new Map(inspection.resources.map((r) => [r.path, r]));
    expect(byPath.get('models/encoder/weights.pt')).toMatchObject({ name: 'encoder/weights.pt', type: 'Model', compression: 'stored' });
    expect(byPath.get('config/model.yaml')).toMatchObject({ type: 'Config', compression: 'deflate' });
    expect(byPath.get('resources/LICENSE')?.type).toBe('License');

    const total = Object.values(contents).reduce<number>((sum, c) => sum + Buffer.from(c).length, 0);
    expect(progress.at(-1)).toEqual([total, total]);
    expect(await streamToBuffer(await openPackageEntry(output, 'models/decoder/weights.pt'))).toEqual(contents['models/decoder/weights.pt']);
  });

  it('writes what Python zipfile reads and the reference importer verifies', async () => {
    const root = tempDir();
    writeTree(path.join(root, 'src'), folderContents());
    const output = path.join(root, 'pkg.torshpkg');
    const result = await packPackage({ name: 'quokka-net', version: '2.1.0-rc.1', files: await collectFolder(path.join(root, 'src')) }, output);

    const report = await pythonVerify(output);
    expect(report.problems).toEqual([]);
    expect(report.testzip).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.manifest_keys.sort()).toEqual(
      ['author', 'created_at', 'dependencies', 'description', 'format_version', 'license', 'metadata', 'modules', 'name', 'resources', 'signature', 'version'].sort(),
    );
    expect(report.manifest.resources).toHaveLength(8);
    expect(report.manifest.resources.every((r) => /^[0-9a-f]{64}$/.test(r.sha256) && r.size > 0)).toBe(true);
    // Every resource carries a sidecar with its sha256, so the reference's verify() checks them all.
    expect(report.resources).toHaveLength(8);
    for (const resource of report.resources) expect(resource.metadata.sha256).toBe(resource.sha256);
    expect(report.entries.filter((e) => e.endsWith('.metadata'))).toHaveLength(8);
    expect(report.entries.every((e) => !e.endsWith('/'))).toBe(true);
    // The manifest is pretty-printed with two spaces, like serde_json::to_string_pretty.
    const manifestText = await streamToBuffer(await openPackageEntry(output, 'MANIFEST.json'));
    expect(manifestText.toString('utf8')).toBe(JSON.stringify(result.manifest, null, 2));
  });

  it('derives entry paths from types when none is given, and honours explicit types', async () => {
    const root = tempDir();
    writeTree(root, { 'w.safetensors': randomBytes(1000), 'hparams.toml': 'lr = 0.1\n', 'vocab.bin': randomBytes(100) });
    const output = path.join(root, 'pkg.torshpkg');
    await packPackage(
      {
        name: 'derived',
        version: '0.0.1',
        files: [
          { sourcePath: path.join(root, 'w.safetensors'), type: 'Model' },
          { sourcePath: path.join(root, 'hparams.toml') },
          { sourcePath: path.join(root, 'vocab.bin'), entryPath: 'resources/tok/vocab.bin', type: 'Text' },
        ],
      },
      output,
    );
    const inspection = await inspectPackage(output);
    expect(inspection.resources.map((r) => [r.path, r.name, r.type, r.compression])).toEqual([
      ['config/hparams.toml', 'hparams.toml', 'Config', 'deflate'],
      ['models/w.safetensors', 'w.safetensors', 'Model', 'stored'],
      ['resources/tok/vocab.bin', 'tok/vocab.bin', 'Text', 'stored'],
    ]);
  });

  describe('validation fails before anything is written', () => {
    const cases: Array<{ title: string; input: (dir: string) => PackInput; reason: string }> = [
      { title: 'bad name', input: (dir) => ({ name: 'Bad Name', version: '1.0.0', files: oneFile(dir) }), reason: 'bad-name' },
      { title: 'two scopes', input: (dir) => ({ name: 'a/b/c', version: '1.0.0', files: oneFile(dir) }), reason: 'bad-name' },
      { title: 'bad semver', input: (dir) => ({ name: 'ok', version: 'v1.0', files: oneFile(dir) }), reason: 'bad-semver' },
      { title: 'leading zero', input: (dir) => ({ name: 'ok', version: '01.0.0', files: oneFile(dir) }), reason: 'bad-semver' },
      { title: 'bad dependency range', input: (dir) => ({ name: 'ok', version: '1.0.0', files: oneFile(dir), dependencies: { core: 'latest!' } }), reason: 'bad-dependency' },
      { title: 'bad dependency name', input: (dir) => ({ name: 'ok', version: '1.0.0', files: oneFile(dir), dependencies: { 'Core Lib': '^1.0.0' } }), reason: 'bad-dependency' },
      {
        title: 'duplicate entry paths',
        input: (dir) => ({ name: 'ok', version: '1.0.0', files: [...oneFile(dir), ...oneFile(dir)] }),
        reason: 'duplicate-entry',
      },
      { title: 'zip-slip entry path', input: (dir) => ({ name: 'ok', version: '1.0.0', files: [{ sourcePath: source(dir), entryPath: 'models/../../x.pt' }] }), reason: 'bad-entry-path' },
      { title: 'reserved sidecar name', input: (dir) => ({ name: 'ok', version: '1.0.0', files: [{ sourcePath: source(dir), entryPath: 'data/x.metadata' }] }), reason: 'reserved-entry-path' },
      { title: 'folder disagrees with type', input: (dir) => ({ name: 'ok', version: '1.0.0', files: [{ sourcePath: source(dir), entryPath: 'data/w.pt', type: 'Model' }] }), reason: 'entry-type-mismatch' },
      { title: 'untyped entry path', input: (dir) => ({ name: 'ok', version: '1.0.0', files: [{ sourcePath: source(dir), entryPath: 'w.pt' }] }), reason: 'entry-type-mismatch' },
      { title: 'missing source', input: (dir) => ({ name: 'ok', version: '1.0.0', files: [{ sourcePath: path.join(dir, 'nope.pt') }] }), reason: 'source-not-found' },
      { title: 'directory source', input: (dir) => ({ name: 'ok', version: '1.0.0', files: [{ sourcePath: dir }] }), reason: 'source-not-a-file' },
    ];

    for (const { title, input, reason } of cases) {
      it(`${title} → ${reason}`, async () => {
        const work = tempDir();
        const outDir = path.join(work, 'out');
        mkdirSync(outDir);
        await expectDefect(packPackage(input(work), path.join(outDir, 'pkg.torshpkg')), 'VALIDATION_FAILED', reason);
        expect(readdirSync(outDir)).toEqual([]);
      });
    }
  });

  it('leaves nothing behind when aborted mid-pack, or when already aborted', async () => {
    const work = tempDir();
    writeTree(path.join(work, 'src'), { 'models/a.pt': randomBytes(6 * 1024 * 1024), 'models/b.pt': randomBytes(6 * 1024 * 1024), 'config/c.yaml': 'x: 1\n' });
    const outDir = path.join(work, 'out');
    mkdirSync(outDir);
    const files = await collectFolder(path.join(work, 'src'));

    const controller = new AbortController();
    let calls = 0;
    await expectDefect(
      packPackage({ name: 'big', version: '1.0.0', files }, path.join(outDir, 'big.torshpkg'), {
        signal: controller.signal,
        onProgress: (done) => {
          calls += 1;
          if (done > 2 * 1024 * 1024) controller.abort();
        },
      }),
      'CANCELLED',
      'aborted',
    );
    expect(calls).toBeGreaterThan(0);
    expect(readdirSync(outDir)).toEqual([]);

    const aborted = new AbortController();
    aborted.abort();
    await expectDefect(packPackage({ name: 'big', version: '1.0.0', files }, path.join(outDir, 'big.torshpkg'), { signal: aborted.signal }), 'CANCELLED', 'aborted');
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('fails without leaving a temp file when a source changes size while packing', async () => {
    const work = tempDir();
    const grow = path.join(work, 'models', 'grow.pt');
    writeTree(work, { 'models/grow.pt': randomBytes(3 * 1024 * 1024), 'config/a.yaml': 'a: 1\n' });
    const outDir = path.join(work, 'out');
    mkdirSync(outDir);
    const files = [{ sourcePath: path.join(work, 'config', 'a.yaml'), entryPath: 'config/a.yaml' }, { sourcePath: grow, entryPath: 'models/grow.pt' }];
    let grown = false;
    const attempt = packPackage({ name: 'shifty', version: '1.0.0', files }, path.join(outDir, 'shifty.torshpkg'), {
      onProgress: () => {
        if (!grown) {
          grown = true;
          writeFileSync(grow, randomBytes(4 * 1024 * 1024));
        }
      },
    });
    await expect(attempt).rejects.toThrow();
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('turns a throwing progress callback into a failed pack with nothing left behind', async () => {
    const work = tempDir();
    const outDir = path.join(work, 'out');
    mkdirSync(outDir);
    const attempt = packPackage({ name: 'noisy', version: '1.0.0', files: oneFile(work) }, path.join(outDir, 'noisy.torshpkg'), {
      onProgress: () => {
        throw new Error('listener broke');
      },
    });
    await expect(attempt).rejects.toThrow('listener broke');
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('replaces an existing output atomically', async () => {
    const work = tempDir();
    const output = path.join(work, 'pkg.torshpkg');
    writeFileSync(output, 'old contents');
    const result = await packPackage({ name: 'fresh', version: '1.0.0', files: oneFile(work) }, output);
    expect(sha256(readFileSync(output))).toBe(result.sha256);
    expect(readdirSync(work).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });
});

function source(dir: string): string {
  const file = path.join(dir, `w-${randomBytes(3).toString('hex')}.pt`);
  writeFileSync(file, randomBytes(64));
  return file;
}

function oneFile(dir: string): PackInput['files'] {
  const file = path.join(dir, 'w.pt');
  writeFileSync(file, randomBytes(64));
  return [{ sourcePath: file }];
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
