import { DepotError } from '../../../shared/errors';
import type { ReplicaMetaRecord } from '../../../shared/domain/replication';
import type { AccessControl } from '../access/access-control';
import type { Logger } from '../logger';
import type { RegistryService } from '../registry/registry-service';
import { publishFromRecord } from './replica-apply';
import type { ReplicaNode } from './replica-node';

export interface RebuildReport {
  node: string;
  versions: number;
  yanked: number;
  signatures: number;
  failed: Array<{ name: string; version: string; error: string }>;
  /** Strong writes whose commit marker is not on the node: they never completed, and are not restored. */
  uncommitted: Array<{ name: string; version: string }>;
}

/** Every `meta/<name>/<version>.json` on a node, page by page. */
async function* recordsOn(node: ReplicaNode): AsyncGenerator<{ name: string; version: string }> {
  const storage = await node.storage;
  let cursor: string | undefined;
  do {
    const page = await storage.list('meta/', { limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const object of page.objects) {
      const match = /^meta\/(.+)\/([^/]+)\.json$/.exec(object.key);
      if (match?.[1] !== undefined && match[2] !== undefined) yield { name: match[1], version: match[2] };
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/**
 * Rebuilds a registry from one replica (`replication rebuild --from NODE --data-dir DIR`): each
 * record's blob is published again through the normal publish path (validated, digest checked),
 * then its yank, signatures and visibility are applied. The registry must be empty.
 */
export async function rebuildFromReplica(options: { node: ReplicaNode; registry: RegistryService; access: AccessControl; tmpDir: string; logger: Logger }): Promise<RebuildReport> {
  const { node, registry, access } = options;
  if (registry.listVersionRows(0, 1).total > 0) throw new DepotError('CONFLICT', 'rebuild needs an empty registry: the data folder already holds versions.', { reason: 'not-empty' });
  const report: RebuildReport = { node: node.id, versions: 0, yanked: 0, signatures: 0, failed: [], uncommitted: [] };
  const pending: ReplicaMetaRecord[] = [];
  for await (const entry of recordsOn(node)) {
    const record = await node.readRecord(entry.name, entry.version);
    if (!record) report.failed.push({ ...entry, error: 'the metadata record does not parse' });
    else if (record.consistency === 'strong' && (await node.readMarker(entry.name, entry.version))?.digest !== record.digest) report.uncommitted.push(entry);
    else pending.push(record);
  }
  for (const record of pending) {
    try {
      const applied = await publishFromRecord({ registry, access, tmpDir: options.tmpDir }, record, () => node.open(record.digest));
      report.versions += 1;
      if (record.yanked) report.yanked += 1;
      report.signatures += applied.signatures;
    } catch (error) {
      report.failed.push({ name: record.name, version: record.version, error: error instanceof Error ? error.message : String(error) });
      options.logger.warn(`rebuild: ${record.name}@${record.version} not restored: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return report;
}
