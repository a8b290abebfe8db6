import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { bucketOf, ReplicaHashTree, type TreeLeaf } from '../../../../electron/services/replication/replica-hash-tree';

function treeOf(leaves: readonly TreeLeaf[]): ReplicaHashTree {
  const tree = new ReplicaHashTree();
  for (const leaf of leaves) tree.add(leaf);
  return tree;
}

const leaves: TreeLeaf[] = Array.from({ length: 2000 }, (_, index) => {
  const hex = createHash('sha256').update(String(index)).digest('hex');
  return index % 2 === 0 ? { key: `blobs/sha256/${hex}`, size: index, md5: null } : { key: `meta/pkg-${index}/1.0.0.json`, size: 300 + index, md5: hex.slice(0, 32) };
});

describe('replica hash tree', () => {
  it('buckets keys by <prefix>/<first 2 chars>', () => {
    expect(bucketOf('blobs/sha256/ab12cd')).toBe('blobs/sha256/ab');
    expect(bucketOf('blobs/sha256/ab12cd.minisig')).toBe('blobs/sha256/ab');
    expect(bucketOf('meta/resnet50/1.2.0.json')).toBe('meta/re');
  });

  it('gives equal roots for the same objects in any order, and no differing bucket', () => {
    const a = treeOf(leaves);
    const b = treeOf([...leaves].reverse());
    expect(a.root()).toBe(b.root());
    expect(a.differingBuckets(b)).toEqual([]);
    expect(a.size).toBe(2000);
  });

  it('names only the buckets that hold a missing, resized or changed object', () => {
    const expected = treeOf(leaves);
    const missing = leaves.filter((leaf) => leaf.key !== leaves[10]?.key);
    const changed = missing.map((leaf) => (leaf.key === leaves[11]?.key ? { ...leaf, md5: 'f'.repeat(32) } : leaf.key === leaves[12]?.key ? { ...leaf, size: leaf.size + 1 } : leaf));
    const actual = treeOf(changed);
    expect(expected.root()).not.toBe(actual.root());
    const differing = expected.differingBuckets(actual);
    expect(differing.sort()).toEqual([...new Set([10, 11, 12].map((index) => bucketOf(leaves[index]?.key ?? '')))].sort());
    expect(expected.bucketHashes().size).toBeGreaterThan(differing.length * 10);
    expect(actual.leaf(leaves[10]?.key ?? '')).toBeUndefined();
  });
});
