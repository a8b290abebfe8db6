import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { Readable } from 'node:stream';
import { DepotError } from '../../../shared/errors';
import { buildAgeHeader, payloadKey, readAgeHeader, unlockAgeHeader, type AgeHeaderSource } from '../encryption/age-header';
import { parseAgeRecipient, type AgeIdentity } from '../encryption/x25519-keys';
import type { ScryptParams } from '../encryption/scrypt-kdf';
import type { StorageBackend } from '../storage/storage-backend';
import { StorageError } from '../storage/storage-errors';
import { assertCompression, decodeChunk, defaultCompression, encodeChunk, type CompressionSettings } from './chunk-codec';
import { FastCdc, assertChunkerParams, defaultChunkerParams, type ChunkerParams } from './fastcdc';
import { chunkIdOf, generateRepositoryKeys, openKeyFile, openWith, parseKeyFile, sealKeyFile, sealParts, sealWith, type RepositoryKeys } from './repository-keys';
import {
  indexFileSchema,
  listKeys,
  objectKeys,
  parseWith,
  readObject,
  repositoryConfigSchema,
  repositoryFormatVersion,
  snapshotSchema,
  writeObject,
  type IndexBlob,
  type IndexFile,
  type IndexPack,
  type RepositoryConfig,
  type Snapshot,
  type SnapshotContent,
} from './repository-format';

const packMagic = Buffer.from('TDBPACK1');
const packModeKey = 1;
const packModeAge = 2;
const MiB = 1024 * 1024;

export interface InitOptions {
  passphrase: string;
  /** Write-only mode: chunk data sealed to these age recipients (age1…). */
  recipients?: string[];
  chunker?: ChunkerParams;
  compression?: CompressionSettings;
  packSize?: number;
  scrypt?: ScryptParams;
}

export interface OpenOptions {
  passphrase: string;
  /** Needed to read chunk data of a write-only repository. */
  identities?: AgeIdentity[];
}

/** Where a chunk lives. */
export interface ChunkLocation extends IndexBlob {
  pack: string;
  headerLength: number;
}

/** The merged view of every index file. */
export class ChunkIndex {
  readonly chunks = new Map<string, ChunkLocation>();
  readonly packs = new Map<string, IndexPack>();
  /** Index object keys that were loaded. */
  readonly files: string[] = [];

  addPack(pack: IndexPack): void {
    this.packs.set(pack.id, pack);
    for (const blob of pack.blobs) if (!this.chunks.has(blob.id)) this.chunks.set(blob.id, { ...blob, pack: pack.id, headerLength: pack.headerLength });
  }
}

/** A repository opened with a passphrase: the only way in to its objects. */
export class BackupRepository {
  private readonly packKeys = new Map<string, Buffer>();
  readonly chunker: FastCdc;

  private constructor(
    readonly storage: StorageBackend,
    readonly config: RepositoryConfig,
    private readonly keys: RepositoryKeys,
    private readonly identities: AgeIdentity[],
  ) {
    this.chunker = new FastCdc({ minSize: config.chunker.minSize, avgSize: config.chunker.avgSize, maxSize: config.chunker.maxSize });
  }

  get writeOnly(): boolean {
    return this.config.recipients !== null;
  }

  /** Creates a repository in an empty location; refuses one that already holds a config. */
  static async init(storage: StorageBackend, options: InitOptions): Promise<BackupRepository> {
    if (options.passphrase.length === 0) throw new DepotError('VALIDATION_FAILED', 'The repository passphrase is empty.', { reason: 'empty-passphrase' });
    if (await storage.head(objectKeys.config)) throw new DepotError('CONFLICT', `${storage.description} already holds a backup repository.`, { reason: 'repository-exists' });
    const recipients = options.recipients && options.recipients.length > 0 ? options.recipients.map((text) => text.trim()) : null;
    for (const recipient of recipients ?? []) parseAgeRecipient(recipient);
    const chunker = options.chunker ?? defaultChunkerParams;
    assertChunkerParams(chunker);
    if (options.compression) assertCompression(options.compression);
    const config: RepositoryConfig = {
      format: 'torsh-depot-backup',
      version: repositoryFormatVersion,
      id: randomBytes(16).toString('hex'),
      created: new Date().toISOString(),
      chunker: { algorithm: 'fastcdc-2020', ...chunker },
      compression: options.compression ?? defaultCompression,
      packSize: options.packSize ?? 16 * MiB,
      recipients,
    };
    repositoryConfigSchema.parse(config);
    const keys = generateRepositoryKeys(recipients !== null);
    const keyFile = await sealKeyFile(keys, options.passphrase, options.scrypt);
    const keyBytes = Buffer.from(JSON.stringify(keyFile, null, 2));
    await writeObject(storage, `${objectKeys.keys}${createHash('sha256').update(keyBytes).digest('hex')}`, keyBytes);
    // The config last: a repository without one is not a repository, so a crash here leaves nothing half-made.
    await writeObject(storage, objectKeys.config, Buffer.from(JSON.stringify(config, null, 2)));
    return new BackupRepository(storage, config, keys, []);
  }

  static async open(storage: StorageBackend, options: OpenOptions): Promise<BackupRepository> {
    const config = await readConfig(storage);
    const keyObjects = await listKeys(storage, objectKeys.keys);
    if (keyObjects.length === 0) throw new DepotError('VALIDATION_FAILED', `The repository in ${storage.description} has no key file.`, { reason: 'no-key-file' });
    for (const { key } of keyObjects) {
      const keys = await openKeyFile(parseKeyFile(await readObject(storage, key)), options.passphrase);
      if (keys) return new BackupRepository(storage, config, keys, options.identities ?? []);
    }
    throw new DepotError('UNAUTHORIZED', 'Wrong repository passphrase: no key file opens with it.', { reason: 'bad-passphrase' });
  }

  /** Adds a key file for another passphrase. */
  async addPassphrase(passphrase: string, scrypt?: ScryptParams): Promise<void> {
    const keyBytes = Buffer.from(JSON.stringify(await sealKeyFile(this.keys, passphrase, scrypt), null, 2));
    await writeObject(this.storage, `${objectKeys.keys}${createHash('sha256').update(keyBytes).digest('hex')}`, keyBytes);
  }

  chunkId(raw: Buffer): string {
    return chunkIdOf(this.keys.idKey, raw);
  }

  // ---- indexes ----

  async loadIndex(): Promise<ChunkIndex> {
    const index = new ChunkIndex();
    for (const { key } of await listKeys(this.storage, objectKeys.index)) {
      const file = await this.readIndexFile(key);
      for (const pack of file.packs) index.addPack(pack);
      index.files.push(key);
    }
    return index;
  }

  async readIndexFile(key: string): Promise<IndexFile> {
    const what = `Index ${key}`;
    const sealed = await readObject(this.storage, key);
    if (createHash('sha256').update(sealed).digest('hex') !== objectKeys.packIdOf(key)) {
      throw new DepotError('DIGEST_MISMATCH', `${what} does not match its name (truncated or damaged).`, { reason: 'object-corrupt' });
    }
    return parseWith(indexFileSchema, openWith(this.keys.metaKey, sealed, 'index', what), what);
  }

  /** Writes an index object; its name is the SHA-256 of its sealed bytes. */
  async writeIndexFile(file: IndexFile): Promise<string> {
    const sealed = sealWith(this.keys.metaKey, Buffer.from(JSON.stringify(file)), 'index');
    const key = `${objectKeys.index}${createHash('sha256').update(sealed).digest('hex')}`;
    await writeObject(this.storage, key, sealed);
    return key;
  }

  // ---- packs ----

  newPackWriter(): PackWriter {
    return new PackWriter(this);
  }

  /** @internal The header that starts a pack, and the key its blobs are sealed with. */
  async newPackHeader(): Promise<{ header: Buffer; key: Buffer }> {
    if (this.config.recipients === null) {
      if (!this.keys.dataKey) throw new DepotError('INTERNAL', 'The repository key holds no data key.');
      return { header: Buffer.concat([packMagic, Buffer.from([packModeKey])]), key: this.keys.dataKey };
    }
    const fileKey = randomBytes(16);
    const salt = randomBytes(16);
    const ageHeader = await buildAgeHeader(fileKey, this.config.recipients.map((text) => ({ kind: 'x25519' as const, publicKey: parseAgeRecipient(text) })));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(ageHeader.length);
    return { header: Buffer.concat([packMagic, Buffer.from([packModeAge]), salt, length, ageHeader]), key: payloadKey(fileKey, salt) };
  }

  /** @internal */
  async sealBlob(key: Buffer, id: string, raw: Buffer): Promise<{ sealed: Buffer[]; length: number; codec: number }> {
    const encoded = await encodeChunk(raw, this.config.compression);
    const sealed = sealParts(key, [Buffer.from([encoded.codec]), encoded.bytes], Buffer.from(id, 'hex'));
    return { sealed, length: sealed.reduce((sum, part) => sum + part.length, 0), codec: encoded.codec };
  }

  private async packKey(pack: string, headerLength: number, header?: Buffer): Promise<Buffer> {
    const cached = this.packKeys.get(pack);
    if (cached) return cached;
    const bytes = header ?? (await readObject(this.storage, objectKeys.packKey(pack), { start: 0, end: headerLength - 1 }));
    if (bytes.length < headerLength || !bytes.subarray(0, 8).equals(packMagic)) throw new DepotError('DIGEST_MISMATCH', `Pack ${pack} has a damaged header.`, { reason: 'pack-corrupt' });
    const mode = bytes[8];
    let key: Buffer;
    if (mode === packModeKey) {
      if (!this.keys.dataKey) throw new DepotError('INTERNAL', 'The repository key holds no data key.');
      key = this.keys.dataKey;
    } else if (mode === packModeAge) {
      if (this.identities.length === 0) throw new DepotError('UNAUTHORIZED', 'This repository is write-only: reading backup data needs an age identity (--identity FILE).', { reason: 'identity-required' });
      const salt = bytes.subarray(9, 25);
      const ageHeader = bytes.subarray(29, headerLength);
      const parsed = await readAgeHeader(bufferSource(ageHeader));
      key = payloadKey(await unlockAgeHeader(parsed, { kind: 'identities', identities: this.identities }), salt);
    } else throw new DepotError('VALIDATION_FAILED', `Pack ${pack} uses an unknown mode ${mode ?? '?'}.`, { reason: 'pack-corrupt' });
    if (this.packKeys.size > 4096) this.packKeys.clear();
    this.packKeys.set(pack, key);
    return key;
  }

  /**
   * Opens a sealed blob (AES-GCM authenticates it, with its chunk id as associated data) and checks that
   * its content hashes to its id. A restore, which checks every file's SHA-256 before the file lands,
   * passes `checkId: false` to spare one hash pass over every byte; verify always checks.
   */
  async openBlob(location: ChunkLocation, sealed: Buffer, header?: Buffer, options: { checkId?: boolean } = {}): Promise<Buffer> {
    const key = await this.packKey(location.pack, location.headerLength, header);
    const plain = openWith(key, sealed, Buffer.from(location.id, 'hex'), `Chunk ${location.id.slice(0, 12)} in pack ${location.pack.slice(0, 12)}`);
    const raw = await decodeChunk(plain[0] ?? -1, plain.subarray(1), location.rawLength);
    if (options.checkId !== false && this.chunkId(raw) !== location.id) throw new DepotError('DIGEST_MISMATCH', `Chunk ${location.id.slice(0, 12)} in pack ${location.pack.slice(0, 12)} does not hash to its id.`, { reason: 'chunk-corrupt' });
    return raw;
  }

  async readChunk(location: ChunkLocation): Promise<Buffer> {
    const sealed = await readObject(this.storage, objectKeys.packKey(location.pack), { start: location.offset, end: location.offset + location.length - 1 });
    if (sealed.length !== location.length) throw new DepotError('DIGEST_MISMATCH', `Pack ${location.pack} is shorter than its index says.`, { reason: 'pack-truncated' });
    return this.openBlob(location, sealed);
  }

  // ---- snapshots ----

  async saveSnapshot(content: SnapshotContent): Promise<Snapshot> {
    const sealed = sealWith(this.keys.metaKey, Buffer.from(JSON.stringify(snapshotSchema.parse(content))), 'snapshot');
    const id = createHash('sha256').update(sealed).digest('hex');
    await writeObject(this.storage, `${objectKeys.snapshots}${id}`, sealed);
    return { ...content, id };
  }

  async loadSnapshot(id: string): Promise<Snapshot> {
    const key = `${objectKeys.snapshots}${id}`;
    let sealed: Buffer;
    try {
      sealed = await readObject(this.storage, key);
    } catch (error) {
      if (error instanceof StorageError && error.kind === 'NotFound') throw new DepotError('NOT_FOUND', `No snapshot ${id}.`, { reason: 'no-snapshot' });
      throw error;
    }
    const what = `Snapshot ${id.slice(0, 12)}`;
    return { ...parseWith(snapshotSchema, openWith(this.keys.metaKey, sealed, 'snapshot', what), what), id };
  }

  /** Every snapshot, oldest first. */
  async listSnapshots(): Promise<Snapshot[]> {
    const snapshots: Snapshot[] = [];
    for (const { key } of await listKeys(this.storage, objectKeys.snapshots)) snapshots.push(await this.loadSnapshot(objectKeys.packIdOf(key)));
    return snapshots.sort((a, b) => a.time.localeCompare(b.time));
  }

  /** Finds a snapshot by its id or a unique prefix of it (as restic does). */
  async findSnapshot(idOrPrefix: string): Promise<Snapshot> {
    if (!/^[0-9a-f]{4,64}$/.test(idOrPrefix)) throw new DepotError('VALIDATION_FAILED', `"${idOrPrefix.slice(0, 80)}" is not a snapshot id (4 to 64 hex digits).`, { reason: 'bad-snapshot-id' });
    const matches = (await listKeys(this.storage, objectKeys.snapshots)).map(({ key }) => objectKeys.packIdOf(key)).filter((id) => id.startsWith(idOrPrefix));
    if (matches.length === 0) throw new DepotError('NOT_FOUND', `No snapshot ${idOrPrefix}.`, { reason: 'no-snapshot' });
    if (matches.length > 1) throw new DepotError('VALIDATION_FAILED', `Snapshot prefix ${idOrPrefix} is ambiguous.`, { reason: 'ambiguous-snapshot' });
    return this.loadSnapshot(matches[0] ?? '');
  }

  async deleteSnapshot(id: string): Promise<void> {
    await this.storage.delete(`${objectKeys.snapshots}${id}`);
  }
}

/** Reads and checks the config: a newer format or a foreign object is refused before anything is written. */
export async function readConfig(storage: StorageBackend): Promise<RepositoryConfig> {
  let bytes: Buffer;
  try {
    bytes = await readObject(storage, objectKeys.config);
  } catch (error) {
    if (error instanceof StorageError && error.kind === 'NotFound') throw new DepotError('NOT_FOUND', `There is no backup repository in ${storage.description} (run backup init).`, { reason: 'no-repository' });
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DepotError('VALIDATION_FAILED', `The repository config in ${storage.description} is not JSON.`, { reason: 'bad-repository-config' });
  }
  const head = json as { format?: unknown; version?: unknown };
  if (head.format !== 'torsh-depot-backup') throw new DepotError('VALIDATION_FAILED', `${storage.description} does not hold a torsh-depot backup repository.`, { reason: 'bad-repository-config' });
  if (typeof head.version === 'number' && head.version > repositoryFormatVersion) {
    throw new DepotError('VALIDATION_FAILED', `The repository uses format version ${head.version}; this torsh-depot reads up to version ${repositoryFormatVersion}. Upgrade torsh-depot.`, { reason: 'repository-too-new' });
  }
  const parsed = repositoryConfigSchema.safeParse(json);
  if (!parsed.success) throw new DepotError('VALIDATION_FAILED', `The repository config is invalid: ${parsed.error.issues[0]?.message ?? ''}`, { reason: 'bad-repository-config' });
  return parsed.data;
}

function bufferSource(bytes: Buffer): AgeHeaderSource {
  return {
    read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
      const copied = bytes.copy(buffer, offset, position, Math.min(bytes.length, position + length));
      return Promise.resolve({ bytesRead: Math.max(0, copied) });
    },
  };
}

/**
 * Collects sealed chunks into packs of about `packSize` bytes. Each finished pack is uploaded,
 * then an index object naming its chunks is written: after a crash, every pack that has an index is
 * reused by the next backup; a pack without one is garbage that prune removes.
 */
export class PackWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private blobs: IndexBlob[] = [];
  private current: Promise<{ header: Buffer; key: Buffer }> | null = null;
  private readonly pendingIds = new Set<string>();
  private readonly uploads = new Set<Promise<void>>();
  /** Bytes of finished packs (what this writer added to the repository). */
  storedBytes = 0;
  readonly written: IndexPack[] = [];

  constructor(private readonly repository: BackupRepository) {}

  has(id: string): boolean {
    return this.pendingIds.has(id);
  }

  private open(): Promise<{ header: Buffer; key: Buffer }> {
    if (!this.current) {
      const opening = this.repository.newPackHeader();
      this.current = opening;
      this.parts = [];
      this.size = 0;
      this.blobs = [];
    }
    return this.current;
  }

  /** Adds a chunk (unless this writer already holds it). Safe to call several times at once. */
  async add(id: string, raw: Buffer): Promise<void> {
    if (this.pendingIds.has(id)) return;
    this.pendingIds.add(id);
    for (;;) {
      const packPromise = this.open();
      const pack = await packPromise;
      const { sealed, length, codec } = await this.repository.sealBlob(pack.key, id, raw);
      // The pack was finished while this chunk was being sealed: seal it again for the next one.
      if (this.current !== packPromise) continue;
      if (this.parts.length === 0) {
        this.parts.push(pack.header);
        this.size = pack.header.length;
      }
      this.blobs.push({ id, offset: this.size, length, rawLength: raw.length, codec });
      this.parts.push(...sealed);
      this.size += length;
      if (this.size >= this.repository.config.packSize) await this.finishPack();
      return;
    }
  }

  /** Detaches the pack being filled and uploads it (at most two uploads run at once). */
  private async finishPack(): Promise<void> {
    const current = this.current;
    if (!current || this.blobs.length === 0) return;
    const { header } = await current;
    if (this.current !== current || this.blobs.length === 0) return;
    const parts = this.parts;
    const size = this.size;
    const blobs = this.blobs;
    this.current = null;
    this.parts = [];
    this.blobs = [];
    this.size = 0;
    const upload = this.upload(parts, size, header.length, blobs);
    this.uploads.add(upload);
    void upload.then(
      () => this.uploads.delete(upload),
      () => undefined,
    );
    while (this.uploads.size >= 2) await Promise.race(this.uploads);
  }

  private async upload(parts: Buffer[], size: number, headerLength: number, blobs: IndexBlob[]): Promise<void> {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    const id = hash.digest('hex');
    const pack: IndexPack = { id, size, headerLength, blobs };
    // Streamed from the pieces: a pack is never copied into one buffer.
    await this.repository.storage.put(objectKeys.packKey(id), Readable.from(parts), { contentType: 'application/octet-stream' });
    await this.repository.writeIndexFile({ version: 1, packs: [pack], supersedes: [] });
    this.storedBytes += size;
    this.written.push(pack);
  }

  /** Uploads the pack being filled (if any) and waits for every upload and its index. */
  async flush(): Promise<void> {
    await this.finishPack();
    await Promise.all(this.uploads);
  }
}

export function currentHost(): string {
  return os.hostname();
}
