import { Worker } from 'node:worker_threads';

// Plain CommonJS so it runs with `eval: true` from any bundle (CLI, Electron main, tests).
// It reads the file in order up to the frontier it is told and hashes each byte exactly once.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const fd = workerData.fd;
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
let position = 0;
parentPort.on('message', (message) => {
  try {
    while (position < message.upTo) {
      const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, message.upTo - position), position);
      if (read === 0) throw new Error('the file ended at ' + position + ' before ' + message.upTo);
      hash.update(buffer.subarray(0, read));
      position += read;
    }
    if (message.digest) parentPort.postMessage({ type: 'digest', hex: hash.digest('hex') });
    else parentPort.postMessage({ type: 'hashed', position });
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String((error && error.message) || error) });
  }
});
`;

type Reply = { type: 'hashed'; position: number } | { type: 'digest'; hex: string } | { type: 'error'; message: string };

/**
 * SHA-256 of a file being filled out of order: told how far the bytes are contiguous on disk, a
 * worker thread reads (from the page cache) and hashes up to there, overlapping with the download.
 */
export class OrderedHasher {
  private readonly worker: Worker;
  private asked = 0;
  private busy = false;
  private pendingUpTo = 0;
  private failure: Error | null = null;
  private digestWaiter: { resolve: (hex: string) => void; reject: (error: Error) => void } | null = null;
  private digestAsked = false;

  constructor(fd: number) {
    this.worker = new Worker(workerSource, { eval: true, workerData: { fd } });
    this.worker.on('message', (reply: Reply) => {
      this.busy = false;
      if (reply.type === 'error') this.fail(new Error(reply.message));
      else if (reply.type === 'digest') this.digestWaiter?.resolve(`sha256:${reply.hex}`);
      else this.pump();
    });
    this.worker.on('error', (error) => this.fail(error));
  }

  /** Every byte before `offset` is written. */
  advance(offset: number): void {
    if (offset > this.pendingUpTo) this.pendingUpTo = offset;
    this.pump();
  }

  /** The digest of the first `size` bytes (all of them must have been written). */
  digest(size: number): Promise<string> {
    this.advance(size);
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.digestWaiter = { resolve, reject };
      this.digestAsked = true;
      this.pump();
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private pump(): void {
    if (this.busy || this.failure) return;
    if (this.pendingUpTo > this.asked) {
      this.asked = this.pendingUpTo;
      this.busy = true;
      this.worker.postMessage({ upTo: this.asked, digest: false });
    } else if (this.digestAsked) {
      this.digestAsked = false;
      this.busy = true;
      this.worker.postMessage({ upTo: this.asked, digest: true });
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    this.digestWaiter?.reject(error);
  }
}
