import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../../../electron/services/blobs/blob-store';
import { BlobsInFlight } from '../../../../electron/services/blobs/blobs-in-flight';
import { BlobGarbageCollector } from '../../../../electron/services/blobs/blob-garbage-collector';
import { LocalStorage } from '../../../../electron/services/storage/local-storage';
import { silentLogger } from '../../../../electron/services/logger';
import { makeTempDir } from '../../../support/temp-dir';
import { Readable } from 'node:stream';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

async function setup(): Promise<{ blobs: BlobStore; inFlight: BlobsInFlight; gc: BlobGarbageCollector; referenced: Set<string>; put: (text: string) => Promise<string> }> {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  const backend = new LocalStorage(temp.dir);
  const blobs = new BlobStore(backend);
  const inFlight = new BlobsInFlight();
  const referenced = new Set<string>();
  const gc = new BlobGarbageCollector({ blobs, inFlight, isReferenced: (digest) => referenced.has(digest), logger: silentLogger });
  const put = async (text: string): Promise<string> => {
    const digest = createHash('sha256').update(text).digest('hex');
    await backend.put(blobs.keyFor(digest), Readable.from([Buffer.from(text)]));
    return digest;
  };
  return { blobs, inFlight, gc, referenced, put };
}

describe('blob garbage collector and blobs in flight', () => {
  it('never removes a blob a publish holds; removes it once released and still unreferenced', async () => {
    const { blobs, inFlight, gc, put } = await setup();
    const digest = await put('being published');
    const release = await inFlight.hold(digest);
    const held = await gc.collect({ dry_run: false, grace_seconds: 0 });
    expect(held).toMatchObject({ scanned: 1, in_flight: 1, removed: 0 });
    expect(await blobs.has(digest)).toBe(true);
    release();
    release(); // releasing twice is harmless
    expect(await gc.collect({ dry_run: false, grace_seconds: 0 })).toMatchObject({ scanned: 1, in_flight: 0, removed: 1 });
    expect(await blobs.has(digest)).toBe(false);
  });

  it('a publish that starts while a blob is being deleted waits for the deletion, then holds it', async () => {
    const { inFlight } = await setup();
    let finishDeletion: () => void = () => undefined;
    const order: string[] = [];
    const deletion = inFlight.deleteUnlessHeld('ab', () => false, () => new Promise<void>((resolve) => (finishDeletion = () => (order.push('deleted'), resolve()))));
    const holding = inFlight.hold('ab').then((release) => {
      order.push('held');
      return release;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual([]);
    finishDeletion();
    expect(await deletion).toBe(true);
    (await holding)();
    expect(order).toEqual(['deleted', 'held']);
    // A referenced or held blob is never deleted.
    expect(await inFlight.deleteUnlessHeld('cd', () => true, () => Promise.reject(new Error('must not run')))).toBe(false);
    const release = await inFlight.hold('ef');
    expect(await inFlight.deleteUnlessHeld('ef', () => false, () => Promise.reject(new Error('must not run')))).toBe(false);
    release();
  });

  it('keeps referenced blobs and, in a dry run, removes nothing', async () => {
    const { blobs, gc, referenced, put } = await setup();
    const kept = await put('a version needs me');
    const orphan = await put('nobody needs me');
    referenced.add(kept);
    const dry = await gc.collect({ dry_run: true, grace_seconds: 0 });
    expect(dry).toEqual({ dry_run: true, grace_seconds: 0, scanned: 2, referenced: 1, young: 0, in_flight: 0, unreferenced: 1, unreferenced_bytes: 15, removed: 0, digests: [`sha256:${orphan}`] });
    expect(await blobs.has(orphan)).toBe(true);
    expect(await gc.collect({ dry_run: false, grace_seconds: 3600 })).toMatchObject({ young: 1, removed: 0 });
    expect(await gc.collect({ dry_run: false, grace_seconds: 0 })).toMatchObject({ removed: 1 });
    expect(await blobs.has(kept)).toBe(true);
    expect(await blobs.has(orphan)).toBe(false);
  });
});
