import type { ReplicationRulesView } from '../../../shared/contract/replication-channels';
import type { Core } from '../composition-root';
import type { ReplicationService } from '../replication/replication-service';
import type { RequestHandlers } from './request-router';

type ReplicationChannel = Extract<keyof RequestHandlers, `replication.${string}`>;

function rulesView(replication: ReplicationService): ReplicationRulesView {
  const section = replication.section;
  return { replication_factor: section.replication_factor, consistency: section.consistency, rules: section.rules.map((rule) => ({ ...rule, labels: [...rule.labels] })) };
}

/**
 * The `replication.*` channels: the service functions `/api/v1/replication` calls; the desktop acts
 * as the local user (ManageInfrastructure is the HTTP API's check).
 */
export function createReplicationHandlers(core: Omit<Core, 'router'>): Pick<RequestHandlers, ReplicationChannel> {
  const replication = core.replication;
  const nodes = async () => (await replication.status()).nodes;
  return {
    'replication.status': () => replication.status(),
    'replication.nodes': nodes,
    'replication.nodes.save': async ({ node }) => {
      await replication.changeNode({ node });
      core.access.record(core.access.localContext(), 'replication.node.save', `node:${node.id}`, { region: node.region, endpoint: node.endpoint });
      return nodes();
    },
    'replication.nodes.remove': async ({ id }) => {
      await replication.changeNode({ remove: id });
      core.access.record(core.access.localContext(), 'replication.node.remove', `node:${id}`, {});
      return nodes();
    },
    'replication.rules': () => rulesView(replication),
    'replication.rules.save': async ({ rule }) => {
      await replication.changeRule({ rule });
      return rulesView(replication);
    },
    'replication.rules.remove': async ({ name }) => {
      await replication.changeRule({ remove: name });
      return rulesView(replication);
    },
    'replication.queue': ({ node, limit }) => replication.listQueue({ ...(node !== undefined ? { nodeId: node } : {}), limit }),
    'replication.queue.retry': async ({ node }) => ({ retried: await replication.retry(node) }),
    'replication.placement': ({ name, version }) => replication.placement(name, version),
    'replication.conflicts': () => replication.conflicts.list(),
    'replication.conflicts.resolve': ({ id, ...request }) => replication.conflicts.resolve(id, request, core.access.localContext()),
    'replication.verify': ({ deep, node, repair }) => replication.verify({ deep, repair, ...(node !== undefined ? { nodeId: node } : {}) }),
  };
}
