import v8 from 'node:v8';
import vm from 'node:vm';

type MinorCollector = () => void;

let collector: MinorCollector | null | undefined;

/**
 * Node's ciphers hand back a fresh buffer for every `update`, and V8 only collects on its own after about
 * 64 MiB of such off-heap garbage: streaming 1 GiB in 64 KiB segments would sit ~40 MiB above what it needs.
 * A minor GC (a scavenge: well under a millisecond with our small young heap) frees those buffers at once.
 * The `gc` function comes from a fresh context so the app's global scope never gains one.
 */
function minorCollector(): MinorCollector | null {
  if (collector !== undefined) return collector;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (options?: { type: 'minor' | 'major'; execution?: 'sync' }) => void;
    v8.setFlagsFromString('--no-expose-gc');
    collector = () => gc({ type: 'minor' });
  } catch {
    collector = null;
  }
  return collector;
}

/** Counts short-lived bytes and collects them every `everyBytes`; without a collector it does nothing. */
export class YoungGarbage {
  private pending = 0;
  private readonly collect = minorCollector();

  constructor(private readonly everyBytes = 8 * 1024 * 1024) {}

  add(bytes: number): void {
    if (!this.collect) return;
    this.pending += bytes;
    if (this.pending < this.everyBytes) return;
    this.pending = 0;
    this.collect();
  }
}
