/** A range being filled by one request: `position` advances as bytes reach the disk, `end` may shrink (stolen). */
export interface Fill {
  position: number;
  end: number;
  /** End of the chunk being written now (bytes before it are taken even if not yet on disk). */
  inflight?: number;
}

/** A byte range of the file: `[start, end)`, on disk up to `position`, fetched by at most one source at a time. */
export interface Segment extends Fill {
  readonly start: number;
  owner: string | null;
}

/**
 * The file cut into segments that sources claim one at a time. A source that finds nothing free
 * steals the back half of the segment with the most left (work stealing), so a slow or dying
 * source never holds the tail of the download. Failed segments are released and resume at their
 * position on whichever source claims them next.
 */
export class SegmentPlan {
  /** Ordered by `start`, contiguous over `[0, size)`. */
  private readonly segments: Segment[] = [];
  private waiters: Array<() => void> = [];
  private frontierIndex = 0;

  constructor(
    readonly size: number,
    segmentBytes: number,
    /** Never split a segment into pieces smaller than this. */
    private readonly minStealBytes: number,
  ) {
    for (let start = 0; start < size; start += segmentBytes) {
      this.segments.push({ start, end: Math.min(size, start + segmentBytes), position: start, owner: null });
    }
  }

  get complete(): boolean {
    return this.frontier() === this.size;
  }

  /**
   * A free segment for `owner`, else the back half of the busiest one (when `canSteal` accepts that
   * segment's owner and what is left is worth splitting), else null.
   */
  claim(owner: string, canSteal: (victim: Segment) => boolean = () => true): Segment | null {
    const free = this.segments.find((segment) => segment.owner === null && segment.position < segment.end);
    if (free) {
      free.owner = owner;
      return free;
    }
    let victim: Segment | null = null;
    for (const segment of this.segments) {
      if (segment.owner === null || segment.owner === owner) continue;
      if (left(segment) < 2 * this.minStealBytes) continue;
      if (!canSteal(segment)) continue;
      if (victim === null || left(segment) > left(victim)) victim = segment;
    }
    if (victim === null) return null;
    const taken = Math.max(victim.position, victim.inflight ?? 0);
    const middle = taken + Math.floor((victim.end - taken) / 2);
    const stolen: Segment = { start: middle, end: victim.end, position: middle, owner };
    victim.end = middle;
    this.segments.splice(this.segments.indexOf(victim) + 1, 0, stolen);
    return stolen;
  }

  /** Gives a segment back (its source failed or stopped): the rest resumes wherever it is claimed next. */
  release(segment: Segment): void {
    segment.owner = null;
    this.notify();
  }

  /** `segment.position` moved (bytes reached the disk): wakes idle sources when it is done. */
  settled(segment: Segment): void {
    if (segment.position >= segment.end) this.notify();
  }

  /** Everything before this offset is on disk: the in-order hash may read up to here. */
  frontier(): number {
    while (this.frontierIndex < this.segments.length) {
      const segment = this.segments[this.frontierIndex] as Segment;
      if (segment.position < segment.end) return segment.position;
      this.frontierIndex += 1;
    }
    return this.size;
  }

  /** Resolves at the next release or completion (an idle source waits here for work to appear). */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** What is left of a segment that no chunk in flight has taken yet. */
function left(segment: Segment): number {
  return segment.end - Math.max(segment.position, segment.inflight ?? 0);
}
