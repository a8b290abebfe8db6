import type { FileHandle } from 'node:fs/promises';

const batchBytes = 1024 * 1024;

/**
 * Writes network chunks (often 16–64 KiB) to a file in ~1 MiB batches with one write in flight,
 * so reading the next chunks overlaps the disk write instead of waiting for every small one.
 */
export class BatchedWriter {
  private batch: Uint8Array[] = [];
  private batched = 0;
  private inFlight: Promise<unknown> = Promise.resolve();
  private nextOffset: number;
  /** Bytes of the file that are written for sure (what a resume may start from). */
  written: number;

  constructor(
    private readonly handle: FileHandle,
    offset: number,
  ) {
    this.nextOffset = offset;
    this.written = offset;
  }

  /** Offset after every byte accepted so far, written or not. */
  get received(): number {
    return this.nextOffset + this.batched;
  }

  async push(chunk: Uint8Array): Promise<void> {
    this.batch.push(chunk);
    this.batched += chunk.length;
    if (this.batched >= batchBytes) await this.startWrite();
  }

  /** Waits for everything accepted to be on disk; rejects with the write error, if any. */
  async drain(): Promise<void> {
    await this.startWrite();
    await this.inFlight;
  }

  private async startWrite(): Promise<void> {
    // One write at a time keeps the file contiguous even if a write fails.
    await this.inFlight;
    if (this.batched === 0) return;
    const buffer = this.batch.length === 1 ? (this.batch[0] as Uint8Array) : Buffer.concat(this.batch, this.batched);
    const at = this.nextOffset;
    const length = this.batched;
    this.nextOffset += length;
    this.batch = [];
    this.batched = 0;
    this.inFlight = this.handle.write(buffer, 0, length, at).then(() => {
      this.written = at + length;
    });
  }
}
