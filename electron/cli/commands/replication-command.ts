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

export const replicationUsage = `Usage: torsh-depot replication <status|nodes|rules|queue|retry|verify|placement|conflicts|resolve> [ARGS] --registry URL [--api-key KEY] [--json]
       torsh-depot replication rebuild --from NODE --config depot.yaml --data-dir DIR [--json]

Shows and steers a registry's replication (its replication: section in depot.yaml).
  status                     replication factor, level, queue depth, alerts and each node's lag
  nodes                      each node: region, status, used/capacity, hints, lag avg/p95
  nodes add ID --region R --endpoint URL [--priority N] [--capacity SIZE] [--max-transfers N]
            [--credential NAME=REF]...
                             adds the node, or updates the node with that id (REF: \${ENV} or file:PATH)
  nodes remove ID            removes a node (its waiting copies are dropped)
  rules                      which packages replicate, when and at which consistency level
  rules add NAME [--packages GLOB] [--visibility any|public|internal|private] [--label L]...
            [--consistency LEVEL]
                             adds the rule, or updates the rule with that name
  rules remove NAME          removes a rule
  queue [--node ID]          copies waiting (hints for a node that is down), oldest first
  retry [--node ID]          makes waiting copies due now instead of at their next backoff
  verify [--deep] [--node ID]
                             anti-entropy: checks every confirmed copy (size and recorded digest;
                             --deep re-hashes the bytes) and repairs missing, corrupt or stale ones
  placement NAME VERSION     which nodes hold NAME@VERSION
  conflicts                  writes a registry peer kept instead of applying (same version, other bytes)
  resolve ID [--policy primary-region|first-published|manual] [--winner local|remote]
                             resolves a conflict (default: the section's conflict_policy), audited
  rebuild --from NODE --config depot.yaml --data-dir DIR
                             a new registry in the empty data folder DIR from one replica: every
                             version's bytes (digest checked), yank state, signatures, visibility
${registryOptionsHelp}
  --json             print the raw result as JSON
Reading needs ViewStats; changing nodes or rules, retry and verify need ManageInfrastructure.`;

const actions = ['status', 'nodes', 'rules', 'queue', 'retry', 'verify', 'placement', 'conflicts', 'resolve', 'rebuild'] as const;

function lag(ms: number | null): string {
  return ms === null ? '-' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export async function replicationCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || !(actions as readonly string[]).includes(action)) {
    throw new UsageError(action === undefined ? `missing the action (${actions.join(', ')})` : `unknown action "${action}" (${actions.join(', ')})`);
  }
  if (action === 'rebuild') return rebuild(rest, io);
  if ((action === 'nodes' || action === 'rules') && (rest[0] === 'add' || rest[0] === 'remove')) return change(action, rest[0], rest.slice(1), io);
  const count = action === 'placement' ? 2 : action === 'resolve' ? 1 : 0;
  const { values, positionals } = parseCommandArgs(
    rest,
    { ...registryOptions, json: { type: 'boolean' }, node: { type: 'string' }, deep: { type: 'boolean' }, policy: { type: 'string' }, winner: { type: 'string' } },
    { min: count, max: count, names: action === 'resolve' ? 'the conflict id' : 'the package name and version' },
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
    case 'conflicts': {
      const conflicts = await client.conflicts();
      printResult(io, values.json, conflicts, () =>
        conflicts.length === 0
          ? ['no conflicts']
          : columns([
              ['ID', 'VERSION', 'KIND', 'LOCAL', 'REMOTE', 'FROM', 'STATE'],
              ...conflicts.map((conflict) => [
                String(conflict.id),
                `${conflict.name}@${conflict.version}`,
                conflict.kind,
                conflict.local.digest?.slice(0, 19) ?? '-',
                conflict.remote.digest.slice(0, 19),
                conflict.remote.origin,
                conflict.resolution ? `${conflict.resolution.winner} won (${conflict.resolution.policy})` : 'open',
              ]),
            ]),
      );
      break;
    }
    case 'resolve': {
      const [idText] = positionals as [string];
      if (!/^\d{1,12}$/.test(idText)) throw new UsageError(`the conflict id is a number, got "${idText}"`);
      const resolved = await client.resolve(Number(idText), { ...(values.policy !== undefined ? { policy: values.policy } : {}), ...(values.winner !== undefined ? { winner: values.winner } : {}) });
      printResult(io, values.json, resolved, () => [`conflict ${resolved.id} (${resolved.name}@${resolved.version}): ${resolved.resolution?.winner ?? '?'} won by ${resolved.resolution?.policy ?? '?'}`]);
      break;
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

function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`--${flag} must be a whole number, got "${text}"`);
  return Number(text);
}

/** `nodes add|remove`, `rules add|remove`: the same fields as depot.yaml, checked by the registry. */
async function change(what: 'nodes' | 'rules', verb: 'add' | 'remove', args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      ...registryOptions,
      json: { type: 'boolean' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      priority: { type: 'string' },
      capacity: { type: 'string' },
      'max-transfers': { type: 'string' },
      credential: { type: 'string', multiple: true },
      packages: { type: 'string' },
      visibility: { type: 'string' },
      label: { type: 'string', multiple: true },
      consistency: { type: 'string' },
    },
    { min: 1, max: 1, names: what === 'nodes' ? 'the node id' : 'the rule name' },
  );
  const [id] = positionals as [string];
  const client = new ReplicationClient(registryClientFrom(values, io.env));
  let list: Array<Record<string, unknown>>;
  if (verb === 'remove') {
    list = what === 'nodes' ? await client.changeNodes({ remove: id }) : await client.changeRules({ remove: id });
  } else if (what === 'nodes') {
    if (values.region === undefined || values.endpoint === undefined) throw new UsageError('nodes add needs --region and --endpoint');
    const credentials: Record<string, string> = {};
    for (const entry of values.credential ?? []) {
      const at = entry.indexOf('=');
      if (at < 1) throw new UsageError(`--credential must be NAME=REF (e.g. access_key_id=\${KEY_ID}), got "${entry}"`);
      credentials[entry.slice(0, at)] = entry.slice(at + 1);
    }
    const priority = wholeNumber('priority', values.priority);
    const maxTransfers = wholeNumber('max-transfers', values['max-transfers']);
    list = await client.changeNodes({
      node: {
        id,
        region: values.region,
        endpoint: values.endpoint,
        credentials,
        ...(priority !== undefined ? { priority } : {}),
        ...(values.capacity !== undefined ? { capacity: values.capacity } : {}),
        ...(maxTransfers !== undefined ? { max_transfers: maxTransfers } : {}),
      },
    });
  } else {
    list = await client.changeRules({
      rule: {
        name: id,
        ...(values.packages !== undefined ? { packages: values.packages } : {}),
        ...(values.visibility !== undefined ? { visibility: values.visibility } : {}),
        ...(values.label !== undefined ? { labels: values.label } : {}),
        ...(values.consistency !== undefined ? { consistency: values.consistency } : {}),
      },
    });
  }
  const key = what === 'nodes' ? 'id' : 'name';
  printResult(io, values.json, list, () => [`${what === 'nodes' ? 'node' : 'rule'} ${id} ${verb === 'add' ? 'saved' : 'removed'}; ${what}: ${list.map((entry) => String(entry[key])).join(', ') || 'none'}`]);
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
