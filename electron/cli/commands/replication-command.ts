import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { ReplicationClient } from '../../services/registry-client/replication-client';
import { formatBytes, parseCommandArgs, registryClientFrom, registryOptions, registryOptionsHelp } from './command-options';
import { columns, printResult } from './access-command-support';
import path from 'node:path';
import { createCore } from '../../services/composition-root';
import { createConsoleLogger } from '../../services/logger';
import { ReplicaNode, storageForNode } from '../../services/replication/replica-node';
import { rebuildFromReplica } from '../../services/replication/replica-rebuild';
import type { ReplicationSection } from '../../../shared/domain/replication';
import { ConfigFileError, loadDepotConfig } from '../../services/config/depot-config-file';

export const replicationUsage = `Usage: torsh-depot replication <status|nodes|rules|queue|retry|verify|placement> [ARGS] --registry URL [--api-key KEY] [--json]
       torsh-depot replication rebuild --from NODE --config depot.yaml --data-dir DIR [--json]

Shows and steers a registry's replication (its replication: section in depot.yaml).
  status                     replication factor, level, queue depth, alerts and each node's lag
  nodes                      each node: region, status, used/capacity, hints, lag avg/p95
  rules                      which packages replicate, when and at which consistency level
  queue [--node ID]          copies waiting (hints for a node that is down), oldest first
  retry [--node ID]          makes waiting copies due now instead of at their next backoff
  verify [--deep] [--node ID]
                             anti-entropy: checks every confirmed copy (size and recorded digest;
                             --deep re-hashes the bytes) and repairs missing, corrupt or stale ones
  placement NAME VERSION     which nodes hold NAME@VERSION
  rebuild --from NODE --config depot.yaml --data-dir DIR
                             a new registry in the empty data folder DIR from one replica: every
                             version's bytes (digest checked), yank state, signatures, visibility
${registryOptionsHelp}
  --json             print the raw result as JSON
Reading needs ViewStats; retry and verify need ManageInfrastructure.`;

const actions = ['status', 'nodes', 'rules', 'queue', 'retry', 'verify', 'placement', 'rebuild'] as const;

function lag(ms: number | null): string {
  return ms === null ? '-' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export async function replicationCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || !(actions as readonly string[]).includes(action)) {
    throw new UsageError(action === undefined ? `missing the action (${actions.join(', ')})` : `unknown action "${action}" (${actions.join(', ')})`);
  }
  if (action === 'rebuild') return rebuild(rest, io);
  const count = action === 'placement' ? 2 : 0;
  const { values, positionals } = parseCommandArgs(
    rest,
    { ...registryOptions, json: { type: 'boolean' }, node: { type: 'string' }, deep: { type: 'boolean' } },
    { min: count, max: count, names: 'the package name and version' },
  );
  const client = new ReplicationClient(registryClientFrom(values, io.env));
  switch (action) {
    case 'status': {
      const status = await client.status();
      printResult(io, values.json, status, () => [
        `replication factor ${status.replicationFactor}, ${status.consistency}, ${status.queueDepth} cop${status.queueDepth === 1 ? 'y' : 'ies'} queued`,
        ...status.nodes.map((node) => `  ${node.id} (${node.region}) ${node.status}: ${node.confirmed} confirmed, ${node.hints} hints, lag avg ${lag(node.lagAvgMs)} p95 ${lag(node.lagP95Ms)}`),
        ...status.alerts.map((alert) => `alert ${alert.kind}: ${alert.message}`),
      ]);
      break;
    }
    case 'nodes': {
      const { nodes } = await client.status();
      printResult(io, values.json, nodes, () =>
        columns([
          ['ID', 'REGION', 'STATUS', 'USED/CAPACITY', 'QUEUED', 'HINTS', 'LAG AVG', 'LAG P95', 'ENDPOINT'],
          ...nodes.map((node) => [
            node.id,
            node.region,
            node.status,
            `${formatBytes(node.usedBytes)}/${node.capacityBytes === null ? '∞' : formatBytes(node.capacityBytes)}`,
            String(node.queueDepth),
            String(node.hints),
            lag(node.lagAvgMs),
            lag(node.lagP95Ms),
            node.endpoint,
          ]),
        ]),
      );
      break;
    }
    case 'rules': {
      const answer = await client.rules();
      printResult(io, values.json, answer, () => [
        `replication factor ${answer.replication_factor}, default consistency ${answer.consistency}`,
        ...(answer.rules.length === 0 ? ['every package replicates (no rules)'] : answer.rules.map((rule) => `  ${rule.name}: ${rule.packages} (${rule.visibility}${rule.labels.length > 0 ? `, labels ${rule.labels.join(',')}` : ''}) ${rule.trigger} ${rule.direction} ${rule.consistency ?? answer.consistency}${rule.enabled ? '' : ' (disabled)'}`)),
      ]);
      break;
    }
    case 'queue': {
      const tasks = await client.queue(values.node);
      printResult(io, values.json, tasks, () =>
        tasks.length === 0
          ? ['the queue is empty']
          : columns([
              ['ID', 'VERSION', 'NODE', 'OP', 'STATE', 'ATTEMPTS', 'NEXT', 'LAST ERROR'],
              ...tasks.map((task) => [String(task.id), `${task.name}@${task.version}`, task.nodeId, task.operation, task.state, String(task.attempts), task.nextAttemptAt ?? '-', task.lastError ?? '']),
            ]),
      );
      break;
    }
    case 'retry': {
      const retried = await client.retry(values.node);
      printResult(io, values.json, { retried }, () => [`${retried} cop${retried === 1 ? 'y is' : 'ies are'} due now`]);
      break;
    }
    case 'verify': {
      const report = await client.verify({ deep: values.deep === true, ...(values.node ? { node: values.node } : {}) });
      printResult(io, values.json, report, () => [
        `checked ${report.checked} cop${report.checked === 1 ? 'y' : 'ies'}${report.deep ? ' (deep: bytes re-hashed)' : ''}: ${report.findings.length === 0 ? 'nothing to repair' : `${report.findings.length} problem(s)`}`,
        ...report.findings.map((finding) => `  ${finding.nodeId} ${finding.name}@${finding.version}: ${finding.problem}, ${finding.repaired ? 'repaired' : `not repaired${finding.error ? ` (${finding.error})` : ''}`}`),
      ]);
      return report.findings.some((finding) => !finding.repaired) ? exitCodes.failure : exitCodes.ok;
    }
    case 'placement': {
      const [name, version] = positionals as [string, string];
      const placement = await client.placement(name, version);
      printResult(io, values.json, placement, () =>
        placement.nodes.length === 0 ? [`${name}@${version} is on no replication node`] : placement.nodes.map((node) => `${node.nodeId}: ${node.state}${node.confirmedAt ? ` (confirmed ${node.confirmedAt})` : ''}`),
      );
      break;
    }
  }
  return exitCodes.ok;
}

/** Runs locally (not over HTTP): the registry being rebuilt does not exist yet. */
async function rebuild(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { from: { type: 'string' }, config: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
  if (values.from === undefined || values.config === undefined || values['data-dir'] === undefined) throw new UsageError('rebuild needs --from NODE, --config depot.yaml and --data-dir DIR');
  let section: ReplicationSection | undefined;
  try {
    section = (await loadDepotConfig(values.config, { env: io.env })).config.replication;
  } catch (error) {
    if (error instanceof ConfigFileError) throw new UsageError(`--config ${error.message}`);
    throw error;
  }
  if (!section) throw new UsageError(`--config ${values.config} has no replication: section`);
  const config = section.nodes.find((node) => node.id === values.from);
  if (!config) throw new UsageError(`--from: no node "${values.from}" in ${values.config}`);
  const logger = createConsoleLogger('torsh-depot', io.stderr);
  const core = createCore({ dataDir: path.resolve(values['data-dir']), shell: 'headless', logger });
  try {
    const report = await rebuildFromReplica({ node: new ReplicaNode(config, storageForNode(config, io.env)), registry: core.registry, access: core.access, tmpDir: core.tmpDir, logger });
    printResult(io, values.json, report, () => [
      `rebuilt ${report.versions} version(s) from ${report.node} (${report.yanked} yanked, ${report.signatures} signature(s))`,
      ...report.failed.map((failure) => `  not restored: ${failure.name}@${failure.version}: ${failure.error}`),
      ...report.uncommitted.map((entry) => `  skipped: ${entry.name}@${entry.version}: a strong write without its commit marker (it never completed)`),
    ]);
    return report.failed.length > 0 ? exitCodes.failure : exitCodes.ok;
  } finally {
    await core.close();
  }
}
