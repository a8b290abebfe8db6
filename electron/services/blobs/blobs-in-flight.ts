/**
 * Blobs a publish is storing and has not yet recorded (or given up on). The garbage collector never
 * deletes one of these, and a publish never relies on a blob the collector is deleting: it waits for
 * the deletion and stores its bytes again.
 */
export class BlobsInFlight {
  private readonly holds = new Map<string, number>();
  private readonly deleting = new Map<string, Promise<void>>();

  /** Marks a digest as being published until the returned release is called (once). */
  async hold(digestHex: string): Promise<() => void> {
    for (let pending = this.deleting.get(digestHex); pending; pending = this.deleting.get(digestHex)) await pending.catch(() => undefined);
    this.holds.set(digestHex, (this.holds.get(digestHex) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.holds.get(digestHex) ?? 1) - 1;
      if (left <= 0) this.holds.delete(digestHex);
      else this.holds.set(digestHex, left);
    };
  }

  isHeld(digestHex: string): boolean {
    return this.holds.has(digestHex);
  }

  /**
   * Deletes a blob unless a publish holds it or `stillWanted()` says so; both are checked synchronously,
   * right before the deletion is registered, so no publish can slip in between. Returns whether it ran.
   */
  async deleteUnlessHeld(digestHex: string, stillWanted: () => boolean, remove: () => Promise<void>): Promise<boolean> {
    if (this.holds.has(digestHex) || this.deleting.has(digestHex) || stillWanted()) return false;
    const deletion = remove();
    this.deleting.set(digestHex, deletion);
    try {
      await deletion;
      return true;
    } finally {
      this.deleting.delete(digestHex);
    }
  }
}
