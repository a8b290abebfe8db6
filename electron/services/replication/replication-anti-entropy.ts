import { createHash } from 'node:crypto';
import { replicaKeys, replicaMetaRecordSchema, replicationNodeKind, type ReplicaMetaRecord, type VerifyFinding, type VerifyReport } from '../../../shared/domain/replication';
import type { Logger } from '../logger';
import { ReplicaHashTree } from './replica-hash-tree';
import { recordText, type ReplicaNode, type ReplicaSource } from './replica-node';
import type { ReplicationQueue } from './replication-queue';

export interface AntiEntropyOptions {
  queue: ReplicationQueue;
  source: ReplicaSource;
  logger: Logger;
}

export interface VerifyRequest {
  /** Re-hash every copy's bytes (a request per object); otherwise compare hash trees built from listings. */
  deep?: boolean;
  nodeId?: string;
  repair?: boolean;
  signal?: AbortSignal;
  /** 0..1 as nodes finish. */
  onProgress?: (fraction: number, message: string) => void;
}

type ExpectedCopy = Awaited<ReturnType<ReplicationQueue['confirmedPuts']>>[number];

/** Worse problems first: a version with a missing blob is reported as that, not as its record. */
const severity: Record<VerifyFinding['problem'], number> = { unreachable: 5, missing: 4, corrupt: 3, 'record-missing': 2, 'record-stale': 1 };

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Anti-entropy (Dynamo's): compares what each node holds with what it confirmed, and rewrites what
 * is missing, corrupt or stale. The ordinary pass builds a hash tree per node from listings and
 * compares it with the tree of what should be there, root first, then bucket by bucket, so a clean
 * node costs one listing request per thousand objects and nothing more. `deep` re-hashes every copy.
 */
export class ReplicationAntiEntropy {
  constructor(private readonly options: AntiEntropyOptions) {}

  async verify(nodes: readonly ReplicaNode[], request: VerifyRequest = {}): Promise<VerifyReport> {
    const deep = request.deep ?? false;
    const repair = request.repair ?? true;
    const findings: VerifyFinding[] = [];
    let checked = 0;
    let finished = 0;
    // Nodes in parallel, each with at most its max_transfers checks or repairs in flight.
    await Promise.all(
      nodes.map(async (node) => {
        const expected = await this.options.queue.confirmedPuts(node.id);
        checked += expected.length;
        const found = deep ? await this.deepCheck(node, expected, request.signal) : await this.treeCheck(node, expected, request.signal);
        await lanes(node.config.max_transfers, found, async (finding) => {
          if (repair && finding.problem !== 'unreachable') await this.repair(node, finding, expected);
          findings.push(finding.finding);
        });
        finished += 1;
        request.onProgress?.(finished / nodes.length, `${node.id}: ${found.length === 0 ? 'in sync' : `${found.length} problem(s)`}`);
      }),
    );
    const order = nodes.map((node) => node.id);
    findings.sort((a, b) => order.indexOf(a.nodeId) - order.indexOf(b.nodeId) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
    if (findings.length > 0) this.options.logger.warn(`replication verify: ${findings.length} problem(s), ${findings.filter((finding) => finding.repaired).length} repaired`);
    return { deep, checked, findings };
  }

  /** The tree of what a node should hold, and which version each key belongs to. */
  private expectedTree(expected: readonly ExpectedCopy[], md5: boolean): { tree: ReplicaHashTree; owner: Map<string, { copy: ExpectedCopy; part: 'blob' | 'signature' | 'record' }> } {
    const tree = new ReplicaHashTree();
    const owner = new Map<string, { copy: ExpectedCopy; part: 'blob' | 'signature' | 'record' }>();
    for (const copy of expected) {
      const record = replicaMetaRecordSchema.parse(JSON.parse(copy.recordJson) as unknown);
      const hex = record.digest.slice('sha256:'.length);
      const text = recordText(record);
      const leaves: Array<[string, number, string | null, 'blob' | 'signature' | 'record']> = [
        [replicaKeys.blob(hex), record.size, null, 'blob'],
        [replicaKeys.meta(record.name, record.version), Buffer.byteLength(text), md5 ? createHash('md5').update(text).digest('hex') : null, 'record'],
      ];
      const signature = record.signatures[0];
      if (signature !== undefined) leaves.push([replicaKeys.signature(hex), Buffer.byteLength(signature), null, 'signature']);
      for (const [key, size, hash, part] of leaves) {
        tree.add({ key, size, md5: hash });
        owner.set(key, { copy, part });
      }
    }
    return { tree, owner };
  }

  private async treeCheck(node: ReplicaNode, expected: readonly ExpectedCopy[], signal: AbortSignal | undefined): Promise<PendingFinding[]> {
    // A registry peer is written to, not listed: what it applied is its own registry's business.
    if (expected.length === 0 || replicationNodeKind(node.config) === 'peer') return [];
    let actual: ReplicaHashTree;
    let md5: boolean;
    try {
      md5 = (await node.storage).kind === 's3';
      actual = await node.listTree(new Set(this.expectedTree(expected, false).owner.keys()), md5, signal);
    } catch (error) {
      return [{ problem: 'unreachable', finding: { nodeId: node.id, name: '*', version: '*', problem: 'unreachable', repaired: false, error: message(error) } }];
    }
    const { tree, owner } = this.expectedTree(expected, md5);
    const problems = new Map<string, PendingFinding>();
    for (const bucket of tree.differingBuckets(actual)) {
      for (const leaf of tree.leavesOf(bucket)) {
        const got = actual.leaf(leaf.key);
        if (got && got.size === leaf.size && (leaf.md5 === null || got.md5 === leaf.md5)) continue;
        const entry = owner.get(leaf.key);
        if (!entry) continue;
        const problem: VerifyFinding['problem'] = entry.part === 'blob' ? (got ? 'corrupt' : 'missing') : entry.part === 'record' && !got ? 'record-missing' : 'record-stale';
        const id = `${entry.copy.name}@${entry.copy.version}`;
        const seen = problems.get(id);
        if (seen && severity[seen.problem] >= severity[problem]) continue;
        problems.set(id, { problem, finding: { nodeId: node.id, name: entry.copy.name, version: entry.copy.version, problem, repaired: false, error: null } });
      }
    }
    return [...problems.values()];
  }

  /** Every copy re-read: blob re-hashed, record parsed and its version vector compared. */
  private async deepCheck(node: ReplicaNode, expected: readonly ExpectedCopy[], signal: AbortSignal | undefined): Promise<PendingFinding[]> {
    const found: PendingFinding[] = [];
    if (replicationNodeKind(node.config) === 'peer') return found;
    await lanes(node.config.max_transfers, expected, async (copy) => {
      signal?.throwIfAborted();
      const record = replicaMetaRecordSchema.parse(JSON.parse(copy.recordJson) as unknown);
      let problem: VerifyFinding['problem'] | null = null;
      let error: string | null = null;
      try {
        const held = await node.check(copy.name, copy.version, copy.digest, copy.size, true);
        if (held.blob !== 'ok') problem = held.blob;
        else if (!held.record) problem = 'record-missing';
        else if (JSON.stringify(held.record.version_vector) !== JSON.stringify(record.version_vector) || held.record.digest !== record.digest) problem = 'record-stale';
      } catch (caught) {
        problem = 'unreachable';
        error = message(caught);
      }
      if (problem !== null) found.push({ problem, finding: { nodeId: node.id, name: copy.name, version: copy.version, problem, repaired: false, error } });
    });
    return found;
  }

  /** Rewrites one version on a node: a bad blob is dropped first so the write does not trust it. */
  private async repair(node: ReplicaNode, pending: PendingFinding, expected: readonly ExpectedCopy[]): Promise<void> {
    const { finding } = pending;
    const copy = expected.find((entry) => entry.name === finding.name && entry.version === finding.version);
    if (!copy) return;
    try {
      const record: ReplicaMetaRecord = replicaMetaRecordSchema.parse(JSON.parse(copy.recordJson) as unknown);
      if (finding.problem === 'missing' || finding.problem === 'corrupt') {
        await node.deleteBlob(copy.digest);
        await node.writeVersion(record, this.options.source);
      } else {
        await node.writeRecord(record);
      }
      finding.repaired = true;
    } catch (error) {
      finding.error = message(error);
    }
  }
}

interface PendingFinding {
  problem: VerifyFinding['problem'];
  finding: VerifyFinding;
}

/** Runs `work` over `items` with at most `width` in flight. */
async function lanes<Item>(width: number, items: readonly Item[], work: (item: Item) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, width) }, lane));
}
