import { createHash, type Hash } from 'node:crypto';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

/** Running SHA-256 (+ optional CRC-32 and byte count) over bytes as they stream past. */
export class RunningDigest {
  private readonly hash: Hash = createHash('sha256');
  crc32 = 0;
  bytes = 0;

  constructor(
    private readonly withCrc: boolean,
    private readonly onChunk: ((chunkBytes: number) => void) | undefined,
  ) {}

  /** Hashes a chunk and reports it; a throwing progress callback comes back as the stream's error. */
  update(chunk: Buffer): Error | null {
    this.hash.update(chunk);
    if (this.withCrc) this.crc32 = zlib.crc32(chunk, this.crc32);
    this.bytes += chunk.length;
    try {
      this.onChunk?.(chunk.length);
      return null;
    } catch (error) {
      return error as Error;
    }
  }

  /** Final hex digest; call once, after the last chunk. */
  hex(): string {
    return this.hash.digest('hex');
  }
}

export interface DigestOptions {
  crc32?: boolean;
  onChunk?: (chunkBytes: number) => void;
}

/** Pass-through that hashes what flows through it (the writer: sources into yazl, yazl into the file). */
export class DigestTransform extends Transform {
  private readonly digest: RunningDigest;

  constructor(options: DigestOptions = {}) {
    super();
    this.digest = new RunningDigest(options.crc32 ?? false, options.onChunk);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const error = this.digest.update(chunk);
    if (error) callback(error);
    else callback(null, chunk);
  }

  get bytes(): number {
    return this.digest.bytes;
  }

  get crc32(): number {
    return this.digest.crc32;
  }

  sha256Hex(): string {
    return this.digest.hex();
  }
}

/** A sink that hashes and discards: the reader never keeps resource bytes. */
export class DigestSink extends Writable {
  private readonly digest: RunningDigest;

  constructor(options: DigestOptions = {}) {
    super();
    this.digest = new RunningDigest(options.crc32 ?? false, options.onChunk);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    callback(this.digest.update(chunk));
  }

  get bytes(): number {
    return this.digest.bytes;
  }

  get crc32(): number {
    return this.digest.crc32;
  }

  sha256Hex(): string {
    return this.digest.hex();
  }
}
