import { createHash } from 'node:crypto';

/** One object as anti-entropy compares it: its key, its size and, where the store gives it, its MD5. */
export interface TreeLeaf {
  key: string;
  size: number;
  md5: string | null;
}

/**
 * The bucket of a key: `<prefix>/<first 2 chars>` of what follows the fixed part of the key
 * (`blobs/sha256/ab`, `meta/re`), so a million objects spread over a few thousand buckets.
 */
export function bucketOf(key: string): string {
  if (key.startsWith('blobs/sha256/')) return `blobs/sha256/${key.slice('blobs/sha256/'.length, 'blobs/sha256/'.length + 2)}`;
  const slash = key.indexOf('/');
  return slash === -1 ? key.slice(0, 2) : `${key.slice(0, slash)}/${key.slice(slash + 1, slash + 3)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A two-level hash tree (Merkle) over sorted keys and their fingerprints: a hash per bucket, and a
 * root over the bucket hashes. Two replicas holding the same objects have the same root; when the
 * roots differ, only the buckets whose hashes differ are compared key by key.
 */
export class ReplicaHashTree {
  private readonly buckets = new Map<string, Map<string, TreeLeaf>>();
  private hashes: Map<string, string> | null = null;

  add(leaf: TreeLeaf): void {
    const bucket = bucketOf(leaf.key);
    let leaves = this.buckets.get(bucket);
    if (!leaves) {
      leaves = new Map();
      this.buckets.set(bucket, leaves);
    }
    leaves.set(leaf.key, leaf);
    this.hashes = null;
  }

  get size(): number {
    let count = 0;
    for (const leaves of this.buckets.values()) count += leaves.size;
    return count;
  }

  leaf(key: string): TreeLeaf | undefined {
    return this.buckets.get(bucketOf(key))?.get(key);
  }

  leavesOf(bucket: string): TreeLeaf[] {
    return [...(this.buckets.get(bucket)?.values() ?? [])].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Each bucket's hash (over its leaves in key order). */
  bucketHashes(): ReadonlyMap<string, string> {
    if (this.hashes) return this.hashes;
    const hashes = new Map<string, string>();
    for (const bucket of [...this.buckets.keys()].sort()) {
      hashes.set(bucket, sha256(this.leavesOf(bucket).map((leaf) => `${leaf.key}\0${leaf.size}\0${leaf.md5 ?? ''}`).join('\n')));
    }
    this.hashes = hashes;
    return hashes;
  }

  root(): string {
    return sha256([...this.bucketHashes()].map(([bucket, hash]) => `${bucket}\0${hash}`).join('\n'));
  }

  /** Buckets whose contents differ between the two trees (none when the roots are equal). */
  differingBuckets(other: ReplicaHashTree): string[] {
    if (this.root() === other.root()) return [];
    const mine = this.bucketHashes();
    const theirs = other.bucketHashes();
    return [...new Set([...mine.keys(), ...theirs.keys()])].filter((bucket) => mine.get(bucket) !== theirs.get(bucket)).sort();
  }
}
