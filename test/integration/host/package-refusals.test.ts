import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { projectRoot, stopAllServing } from '../../support/cli-process';
import { adminKey, startServeHost, type ServeHost } from './serve-host';

// Real processes on a shared 2-core machine: generous per-test limits (each test still waits for answers, never sleeps for them).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * Every package-reader refusal over HTTP (issue 13): a hostile `.torshpkg` PUT to a real `serve`
 * is a 400 with the reader's reason code, nothing is stored (no version, no blob, no temp file),
 * and the host keeps serving.
 */

const fixtureScript = path.join(projectRoot, 'test', 'fixtures', 'packages', 'make-reference-package.py');
let t: ServeHost;
let sourceDir = '';

beforeAll(async () => {
  t = await startServeHost();
  sourceDir = path.join(t.work, 'sources');
  mkdirSync(sourceDir, { recursive: true });
  writeFileSync(path.join(sourceDir, 'w.bin'), randomBytes(100_000));
  writeFileSync(path.join(sourceDir, 'model.yaml'), 'layers: 2\n'.repeat(200));
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await stopAllServing();
});

/**
 * A package written by the independent Python reference writer (name reference-model@1.0.0). Async:
 * a blocked event loop would keep the HTTP client from noticing keep-alive sockets the host closed.
 */
async function referencePackage(flags: string[] = []): Promise<Buffer> {
  const out = path.join(t.work, `ref-${randomBytes(4).toString('hex')}.torshpkg`);
  await promisify(execFile)('python3', [fixtureScript, 'write', out, '--resource', `Model:w.pt=${path.join(sourceDir, 'w.bin')}`, '--resource', `Config:model.yaml=${path.join(sourceDir, 'model.yaml')}`, ...flags]);
  return readFileSync(out);
}

interface CentralEntry {
  /** Offset of the central directory record. */
  at: number;
  name: string;
  localHeader: number;
  size: number;
}

/** The central directory of a (non-ZIP64) archive. */
function centralDirectory(zip: Buffer): { entries: CentralEntry[]; eocd: number; cdOffset: number; cdSize: number } {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  const entries: CentralEntry[] = [];
  let at = cdOffset;
  for (let index = 0; index < count; index += 1) {
    const nameLength = zip.readUInt16LE(at + 28);
    const size = 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    entries.push({ at, name: zip.toString('utf8', at + 46, at + 46 + nameLength), localHeader: zip.readUInt32LE(at + 42), size });
    at += size;
  }
  return { entries, eocd, cdOffset, cdSize };
}

function entryNamed(zip: Buffer, name: string): CentralEntry {
  const found = centralDirectory(zip).entries.find((entry) => entry.name === name);
  if (!found) throw new Error(`no entry ${name}`);
  return found;
}

/** Sets a 16- or 32-bit field in both the central record and the local header of an entry. */
function patchBoth(zip: Buffer, name: string, field: 'flags' | 'method' | 'crc' | 'compressedSize' | 'uncompressedSize', value: number): Buffer {
  const copy = Buffer.from(zip);
  const entry = entryNamed(copy, name);
  const offsets = { flags: [8, 6], method: [10, 8], crc: [16, 14], compressedSize: [20, 18], uncompressedSize: [24, 22] } as const;
  const [central, local] = offsets[field];
  if (field === 'flags' || field === 'method') {
    copy.writeUInt16LE(value, entry.at + central);
    copy.writeUInt16LE(value, entry.localHeader + local);
  } else {
    copy.writeUInt32LE(value >>> 0, entry.at + central);
    copy.writeUInt32LE(value >>> 0, entry.localHeader + local);
  }
  return copy;
}

/** Marks an entry as a Unix symbolic link (made by Unix, mode 0120777). */
function asSymlink(zip: Buffer, name: string): Buffer {
  const copy = Buffer.from(zip);
  const entry = entryNamed(copy, name);
  copy.writeUInt16LE((3 << 8) | 20, entry.at + 4);
  copy.writeUInt32LE((0o120777 << 16) >>> 0, entry.at + 38);
  return copy;
}

/** A second central record, under another name of the same length, pointing at the same local header. */
function withOverlappingEntry(zip: Buffer, name: string, alias: string): Buffer {
  const { entries, eocd, cdOffset, cdSize } = centralDirectory(zip);
  const entry = entries.find((candidate) => candidate.name === name);
  if (!entry || alias.length !== name.length) throw new Error('bad alias');
  const record = Buffer.from(zip.subarray(entry.at, entry.at + entry.size));
  record.write(alias, 46, 'utf8');
  const end = Buffer.from(zip.subarray(eocd));
  end.writeUInt16LE(entries.length + 1, 8);
  end.writeUInt16LE(entries.length + 1, 10);
  end.writeUInt32LE(cdSize + record.length, 12);
  return Buffer.concat([zip.subarray(0, cdOffset + cdSize), record, end]);
}

/** Rewrites stored MANIFEST.json text in place (same length), fixing its CRC so only the content lies. */
function withManifestText(zip: Buffer, replace: (text: string) => string): Buffer {
  const copy = Buffer.from(zip);
  const entry = entryNamed(copy, 'MANIFEST.json');
  const dataStart = entry.localHeader + 30 + copy.readUInt16LE(entry.localHeader + 26) + copy.readUInt16LE(entry.localHeader + 28);
  const size = copy.readUInt32LE(entry.at + 20);
  const text = replace(copy.toString('utf8', dataStart, dataStart + size));
  if (Buffer.byteLength(text) !== size) throw new Error('manifest length changed');
  copy.write(text, dataStart, 'utf8');
  return patchBoth(copy, 'MANIFEST.json', 'crc', crc32(copy.subarray(dataStart, dataStart + size)));
}

function blobFiles(): string[] {
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? list(path.join(dir, entry.name)) : [entry.name]));
    } catch {
      return [];
    }
  };
  return list(path.join(t.dataDir, 'blobs'));
}

function tmpFiles(): string[] {
  try {
    return readdirSync(path.join(t.dataDir, 'tmp'));
  } catch {
    return [];
  }
}

const stored = (): Promise<Buffer> => referencePackage(['--compression', 'stored']);

const cases: Array<{ title: string; build: () => Promise<Buffer>; code: string; reason: string }> = [
  { title: 'overlapping entries (a non-recursive ZIP bomb)', build: async () => withOverlappingEntry(await stored(), 'models/w.pt', 'models/x.pt'), code: 'INVALID_PACKAGE', reason: 'overlapping-entries' },
  { title: 'a header that lies about the size (deflate data longer than declared)', build: async () => patchBoth(await referencePackage(), 'models/w.pt', 'uncompressedSize', 1_000), code: 'INVALID_PACKAGE', reason: 'entry-size-mismatch' },
  { title: 'a symlink entry', build: async () => asSymlink(await stored(), 'config/model.yaml'), code: 'INVALID_PACKAGE', reason: 'symlink-entry' },
  { title: 'an encrypted entry', build: async () => patchBoth(await referencePackage(), 'models/w.pt', 'flags', 1), code: 'INVALID_PACKAGE', reason: 'encrypted-entry' },
  { title: 'an unsupported compression method (bzip2)', build: async () => patchBoth(await referencePackage(), 'models/w.pt', 'method', 12), code: 'INVALID_PACKAGE', reason: 'unsupported-compression' },
  { title: 'corrupt entry data', build: () => referencePackage(['--compression', 'stored', '--no-sidecars', '--corrupt-data']), code: 'DIGEST_MISMATCH', reason: 'crc-mismatch' },
  {
    title: 'a resource whose size differs from the manifest',
    build: async () => withManifestText(await referencePackage(['--compression', 'stored', '--no-sidecars', '--list-resources']), (text) => text.replace('"size": 100000', '"size": 100001')),
    code: 'INVALID_PACKAGE',
    reason: 'resource-size-mismatch',
  },
  { title: 'a zip-slip name', build: () => referencePackage(['--zip-slip']), code: 'INVALID_PACKAGE', reason: 'zip-slip' },
  { title: 'a high-ratio bomb', build: () => referencePackage(['--bomb', 'data/zeros.bin=40000000']), code: 'INVALID_PACKAGE', reason: 'compression-ratio' },
];

describe('package-reader refusals over HTTP', () => {
  it('the untouched reference package is accepted (the hostile variants differ only in their defect)', async () => {
    const name = 'reference-model';
    const accepted = await t.put(name, '9.9.9', await referencePackage(['--version', '9.9.9']), adminKey);
    expect(accepted.status).toBe(201);
  });

  for (const { title, build, code, reason } of cases) {
    it(`${title} → 400 ${reason}, nothing stored, host healthy`, async () => {
      const blobsBefore = blobFiles();
      const answer = await t.put('reference-model', '1.0.0', await build(), adminKey);
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect((answer.body as { error: { code: string; reason?: string } }).error, JSON.stringify(answer.body)).toMatchObject({ code, reason });
      expect((await t.call('GET', '/packages/reference-model/1.0.0', adminKey)).status).toBe(404);
      expect(blobFiles()).toEqual(blobsBefore);
      // The upload's temp file is removed (possibly just after the answer went out).
      await expect.poll(() => tmpFiles(), { timeout: 5_000 }).toEqual([]);
      expect((await t.call('GET', '/health')).status).toBe(200);
    });
  }
});
