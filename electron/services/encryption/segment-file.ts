import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { DepotError } from '../../../shared/errors';
import { YoungGarbage } from '../fs/young-garbage';
import { segmentNonce, segmentSize, tagLength, tamperedError, type SegmentKey } from './segment-stream';

// 16 segments (1 MiB of plaintext) per read and per write; two input buffers so the next read runs while this batch is sealed.
const segmentsPerBatch = 16;
const aeadOptions = { authTagLength: tagLength };

export interface SegmentRun {
  input: FileHandle;
  /** Where the segments (to open) or the plaintext (to seal) start in the input. */
  inputOffset: number;
  output: FileHandle;
  outputOffset: number;
  key: SegmentKey;
  signal?: AbortSignal | undefined;
  onProgress?: ((bytesDone: number) => void) | undefined;
}

async function readFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** writev, then plain writes for whatever a short write left over. */
async function writeAll(handle: FileHandle, buffers: Buffer[], length: number, position: number): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten === length) return;
  const rest = Buffer.concat(buffers).subarray(bytesWritten);
  for (let written = 0; written < rest.length; ) {
    written += (await handle.write(rest, written, rest.length - written, position + bytesWritten + written)).bytesWritten;
  }
}

/**
 * Seals (`seal`) plaintext into 64 KiB segments, or opens (`open`) them, from one file into another with
 * positioned reads and writes over two reused input buffers: the only per-segment allocation is the cipher's
 * output, so memory stays flat and the garbage collector has little to do. Returns the bytes written.
 */
export async function runSegments(mode: 'seal' | 'open', run: SegmentRun): Promise<number> {
  const inSegment = mode === 'seal' ? segmentSize : segmentSize + tagLength;
  const total = (await run.input.stat()).size - run.inputOffset;
  if (mode === 'open' && total < tagLength) throw tamperedError('it ends before its final segment (truncated)');
  const count = Math.max(1, Math.ceil(total / inSegment));
  if (mode === 'open' && total % inSegment !== 0 && total % inSegment < tagLength) throw tamperedError('its final segment is shorter than a tag (truncated)');
  const batchBytes = inSegment * segmentsPerBatch;
  const buffers = [Buffer.allocUnsafe(batchBytes), Buffer.allocUnsafe(batchBytes)];
  let readPosition = run.inputOffset;
  let writePosition = run.outputOffset;
  let index = 0;
  let which = 0;
  const startRead = (): Promise<number> => {
    const length = Math.min(batchBytes, run.inputOffset + total - readPosition);
    const reading = readFully(run.input, buffers[which] as Buffer, length, readPosition).then((bytes) => {
      if (bytes !== length) throw new DepotError('CONFLICT', 'The input file changed size while it was being read.', { reason: 'source-changed' });
      return bytes;
    });
    readPosition += length;
    return reading;
  };
  let pendingRead: Promise<number> | null = startRead();
  let pendingWrite: Promise<unknown> = Promise.resolve();
  let done = 0;
  const garbage = new YoungGarbage();
  while (pendingRead) {
    run.signal?.throwIfAborted();
    const bytes = await pendingRead;
    const buffer = buffers[which] as Buffer;
    which = 1 - which;
    pendingRead = readPosition < run.inputOffset + total ? startRead() : null;
    const outputs: Buffer[] = [];
    for (let offset = 0; offset < bytes || (bytes === 0 && offset === 0); offset += inSegment) {
      const piece = buffer.subarray(offset, Math.min(bytes, offset + inSegment));
      const last = index === count - 1;
      const nonce = segmentNonce(run.key.baseNonce, index, last);
      if (mode === 'seal') {
        const cipher = createCipheriv(run.key.algorithm as CipherGCMTypes, run.key.key, nonce, aeadOptions);
        outputs.push(cipher.update(piece));
        cipher.final();
        outputs.push(cipher.getAuthTag());
      } else {
        const decipher = createDecipheriv(run.key.algorithm as CipherGCMTypes, run.key.key, nonce, aeadOptions);
        decipher.setAuthTag(piece.subarray(piece.length - tagLength));
        const plain = decipher.update(piece.subarray(0, piece.length - tagLength));
        try {
          decipher.final();
        } catch {
          throw tamperedError(last ? `segment ${index} does not authenticate as the final one (altered, truncated or extended)` : `segment ${index} does not authenticate`);
        }
        if (last && plain.length === 0 && index > 0) throw tamperedError('the final segment is empty');
        outputs.push(plain);
      }
      index += 1;
      if (bytes === 0) break;
    }
    await pendingWrite;
    const length = outputs.reduce((sum, output) => sum + output.length, 0);
    pendingWrite = writeAll(run.output, outputs, length, writePosition);
    garbage.add(length);
    writePosition += length;
    done += bytes;
    run.onProgress?.(done);
  }
  await pendingWrite;
  return writePosition - run.outputOffset;
}
