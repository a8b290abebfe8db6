import type { BlobGcRequest, BlobGcResult } from '../../../shared/domain/storage';
import type { JobContext } from '../jobs/job-runner';
import type { Logger } from '../logger';
import type { BlobStore } from './blob-store';
import type { BlobsInFlight } from './blobs-in-flight';

export interface BlobGarbageCollectorOptions {
  blobs: BlobStore;
  inFlight: BlobsInFlight;
  /** True while some version (any state, yanked too) references the digest. */
  isReferenced: (digestHex: string) => boolean;
  logger: Logger;
  now?: () => Date;
}

const listedDigests = 100;

/**
 * Removes registry blobs no version references: what a crash between storing a blob and recording its
 * version, or a lost publish race, leaves behind. Blobs younger than the grace period and blobs being
 * published are kept; the reference check is repeated right before each deletion.
 */
export class BlobGarbageCollector {
  private readonly now: () => Date;

  constructor(private readonly options: BlobGarbageCollectorOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async collect(request: BlobGcRequest, context?: Pick<JobContext, 'signal' | 'reportProgress'>): Promise<BlobGcResult> {
    const { blobs, inFlight, isReferenced } = this.options;
    const cutoff = this.now().getTime() - request.grace_seconds * 1000;
    const result: BlobGcResult = {
      dry_run: request.dry_run,
      grace_seconds: request.grace_seconds,
      scanned: 0,
      referenced: 0,
      young: 0,
      in_flight: 0,
      unreferenced: 0,
      unreferenced_bytes: 0,
      removed: 0,
      digests: [],
    };
    for await (const blob of blobs.listBlobs(context?.signal)) {
      result.scanned += 1;
      if (result.scanned % 100 === 0) context?.reportProgress(null, `Looked at ${result.scanned} blobs`);
      if (isReferenced(blob.digestHex)) {
        result.referenced += 1;
        continue;
      }
      if (inFlight.isHeld(blob.digestHex)) {
        result.in_flight += 1;
        continue;
      }
      // A store that reports no date keeps its blobs until it can say how old they are.
      if (blob.lastModified === null || blob.lastModified.getTime() > cutoff) {
        result.young += 1;
        continue;
      }
      result.unreferenced += 1;
      result.unreferenced_bytes += blob.size;
      if (result.digests.length < listedDigests) result.digests.push(`sha256:${blob.digestHex}`);
      if (request.dry_run) continue;
      if (await inFlight.deleteUnlessHeld(blob.digestHex, () => isReferenced(blob.digestHex), () => blobs.delete(blob.digestHex))) result.removed += 1;
    }
    context?.reportProgress(1, request.dry_run ? `${result.unreferenced} unreferenced blob(s) found` : `Removed ${result.removed} unreferenced blob(s)`);
    if (!request.dry_run && result.removed > 0) this.options.logger.info(`garbage collection removed ${result.removed} unreferenced blob(s), ${result.unreferenced_bytes} bytes`);
    return result;
  }
}
