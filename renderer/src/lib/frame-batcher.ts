/** Coalesces bursts of updates (job progress, metrics) into at most one flush per animation frame. */
export function createFrameBatcher<T>(flush: (items: T[]) => void): (item: T) => void {
  let buffer: T[] = [];
  let scheduled = false;
  return (item) => {
    buffer.push(item);
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      const items = buffer;
      buffer = [];
      flush(items);
    });
  };
}
