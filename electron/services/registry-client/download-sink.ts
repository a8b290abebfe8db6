import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { BatchedWriter } from './batched-writer';
import { recycleChunkBuffer } from './raw-http-get';
import { hashFileHead } from './sha256-digest';

/**
 * Where a download's bytes go: the `.partial` file and the running SHA-256 of exactly the bytes
 * in it. The file handle stays the caller's (truncate, fsync, close); the sink only writes.
 */
export interface DownloadSink {
  /** Offset after every byte accepted, written or not. */
  readonly received: number;
  /** Offset up to which bytes are on disk and hashed: where a resume may start. */
  readonly written: number;
  /** Resolves when the sink can take more; `owned` chunks may be handed to another thread. */
  write(chunk: Uint8Array, owned: boolean): Promise<void>;
  /** Waits until every accepted byte is written and hashed; rejects with the write error, if any. */
  drain(): Promise<void>;
  /** Starts over at `offset` with the hash of the file's first `offset` bytes (0: a fresh start). */
  reset(offset: number, signal?: AbortSignal): Promise<void>;
  digest(): Promise<string>;
  close(): Promise<void>;
}

/** Hashes and writes on the calling thread: no start-up cost, right for small packages. */
export class InlineSink implements DownloadSink {
  private hash: Hash = createHash('sha256');
  private writer: BatchedWriter;

  constructor(private readonly handle: FileHandle) {
    this.writer = new BatchedWriter(handle, 0);
  }

  get received(): number {
    return this.writer.received;
  }

  get written(): number {
    return this.writer.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    await this.writer.push(chunk);
  }

  drain(): Promise<void> {
    return this.writer.drain();
  }

  async reset(offset: number, signal?: AbortSignal): Promise<void> {
    this.hash = offset > 0 ? await hashFileHead(this.handle, offset, signal) : createHash('sha256');
    this.writer = new BatchedWriter(this.handle, offset);
  }

  digest(): Promise<string> {
    return Promise.resolve(`sha256:${this.hash.digest('hex')}`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

// Plain CommonJS so it runs with `eval: true` from any bundle (CLI, Electron main) without a separate file.
// Replies carry the generation of the last reset, so answers about bytes from before a reset are ignored.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const fd = workerData.fd;
let hash = createHash('sha256');
let position = 0;
let generation = 0;
let failed = false;
parentPort.on('message', (message) => {
  try {
    if (message.type === 'chunk') {
      if (failed) return;
      const bytes = new Uint8Array(message.buffer, message.offset, message.length);
      hash.update(bytes);
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
      position += bytes.length;
      // The buffer goes back to be filled again (see recycleChunkBuffer).
      parentPort.postMessage({ type: 'written', generation, position, buffer: message.buffer }, [message.buffer]);
    } else if (message.type === 'reset') {
      generation = message.generation;
      failed = false;
      hash = createHash('sha256');
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      let at = 0;
      while (at < message.offset) {
        const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, message.offset - at), at);
        if (read === 0) break;
        hash.update(buffer.subarray(0, read));
        at += read;
      }
      position = at;
      parentPort.postMessage({ type: 'written', generation, position });
    } else if (message.type === 'digest') {
      parentPort.postMessage({ type: 'digest', generation, hex: hash.digest('hex') });
    }
  } catch (error) {
    failed = true;
    parentPort.postMessage({ type: 'error', generation, message: String((error && error.message) || error), code: error && error.code });
  }
});
`;

type WorkerReply = { generation: number } & ({ type: 'written'; position: number; buffer?: ArrayBuffer } | { type: 'digest'; hex: string } | { type: 'error'; message: string; code?: string });

/** Bytes handed to the worker but not yet written before `write` waits. */
const maxInFlightBytes = 8 * 1024 * 1024;

/**
 * Hashes and writes on a worker thread, so SHA-256 (~0.7 s per GiB on one core) and the disk
 * writes overlap with receiving instead of adding to it. Owned chunks are transferred, not copied.
 */
export class WorkerSink implements DownloadSink {
  private readonly worker: Worker;
  private generation = 0;
  private accepted = 0;
  private confirmed = 0;
  private failure: Error | null = null;
  private digestHex: string | null = null;
  private waiters: Array<() => void> = [];
  private exited = false;

  constructor(handle: FileHandle) {
    this.worker = new Worker(workerSource, { eval: true, workerData: { fd: handle.fd } });
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'written' && reply.buffer) recycleChunkBuffer(reply.buffer);
      if (reply.generation !== this.generation) return;
      if (reply.type === 'written') this.confirmed = reply.position;
      else if (reply.type === 'digest') this.digestHex = reply.hex;
      else this.failure = Object.assign(new Error(reply.message), { code: reply.code });
      this.wake();
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      this.wake();
    });
    this.worker.on('exit', () => {
      this.exited = true;
      this.failure ??= new Error('the download worker stopped');
      this.wake();
    });
  }

  get received(): number {
    return this.accepted;
  }

  get written(): number {
    return this.confirmed;
  }

  async write(chunk: Uint8Array, owned: boolean): Promise<void> {
    if (this.failure) throw this.failure;
    const bytes = owned ? chunk : new Uint8Array(chunk);
    const length = bytes.length; // the transfer below detaches `bytes`
    this.worker.postMessage({ type: 'chunk', buffer: bytes.buffer, offset: bytes.byteOffset, length }, [bytes.buffer as ArrayBuffer]);
    this.accepted += length;
    await this.until(() => this.accepted - this.confirmed <= maxInFlightBytes);
  }

  drain(): Promise<void> {
    return this.until(() => this.confirmed === this.accepted);
  }

  async reset(offset: number): Promise<void> {
    if (this.exited) throw this.failure ?? new Error('the download worker stopped');
    this.generation += 1;
    this.failure = null;
    this.confirmed = -1;
    this.worker.postMessage({ type: 'reset', generation: this.generation, offset });
    await this.until(() => this.confirmed >= 0);
    this.accepted = this.confirmed;
  }

  async digest(): Promise<string> {
    await this.drain();
    this.digestHex = null;
    this.worker.postMessage({ type: 'digest' });
    await this.until(() => this.digestHex !== null);
    return `sha256:${this.digestHex ?? ''}`;
  }

  async close(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }

  /** Resolves once `ready()` holds; rejects as soon as the worker reports a failure. */
  private until(ready: () => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.failure) reject(this.failure);
        else if (ready()) resolve();
        else this.waiters.push(check);
      };
      check();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}
