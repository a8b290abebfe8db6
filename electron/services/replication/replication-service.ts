import type { Readable } from 'node:stream';
import type { Database } from 'better-sqlite3';
import { regionDistanceKm } from '../../../shared/domain/regions';
import { DepotError } from '../../../shared/errors';
import type { Visibility } from '../../../shared/domain/access';
import {
  formatTimestamp,
  matchingRule,
  parseTimestamp,
  placeReplicas,
  replicaMetaRecordSchema,
  replicationNodeKind,
  replicationSectionSchema,
  writeReplicationSection,
  type ReplicationNodeChange,
  type ReplicationRuleChange,
  type ReplicationSectionInput,
  requiredAcks,
  tickClock,
  type ConsistencyLevel,
  type ReplicaMetaRecord,
  type ReplicaPlacement,
  type ReplicationSection,
  type ReplicationStatus,
  type ReplicationTask,
  type VerifyReport,
} from '../../../shared/domain/replication';
import type { Logger } from '../logger';
import { ReplicaNode, storageForNode, type ReplicaSource } from './replica-node';
import { SqliteReplicationQueue, type NewReplicationTask, type ReplicationQueue } from './replication-queue';
import { ReplicationWorker, type TaskSettled } from './replication-worker';
import { ReplicationAntiEntropy } from './replication-anti-entropy';
import { PeerReceiver, type PeerTarget } from './peer-receiver';
import type { JobRunner } from '../jobs/job-runner';
import { SqliteReplicationSettings, type ReplicationSettingsRepository } from './replication-settings-repository';
import type { ByteRange, StorageBackend } from '../storage/storage-backend';
import type { VersionChange, VisibilityCandidate, VisibilityGate } from '../registry/visibility-gate';

export interface ReplicationServiceOptions {
  db: Database;
  /** A section to put in force (and store); without it, the stored section is used. */
  section?: ReplicationSection;
  settings?: ReplicationSettingsRepository;
  /** Whether the registry recorded a version (copies of one it did not are dropped at start). */
  versionExists?: (name: string, version: string) => boolean;
  /** Anti-entropy runs as a job (progress, cancel, history). */
  jobs?: Pick<JobRunner, 'start'>;
  source: ReplicaSource;
  logger: Logger;
  /** This registry's id in version vectors and clocks. */
  registryId: string;
  /** Visibility and owners of a package, when it exists (null before its first publish commits). */
  packageAccess?: (name: string) => { visibility: Visibility; owners: string[] } | null;
  /** Prometheus gauges per node: lag (age of the oldest copy not yet confirmed), queue depth, hints. */
  metrics?: { setReplicationLag(target: string, seconds: number): void; setReplicationQueue(target: string, queued: number, hints: number): void };
  /** Read repair: puts a copy read from a replica back into the registry's blob store (digest checked). */
  repairLocal?: (digestHex: string, open: () => Promise<Readable>) => Promise<unknown>;
  /** Tests pass backends built elsewhere; default: each node's storage URL and secret references. */
  storageFor?: (nodeId: string) => StorageBackend;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  queue?: ReplicationQueue;
}

const lagSamples = 1000;

/** A list with `item` put in place of the entry with its key (or appended), or with `remove`'s entry taken out. */
function upsertOrRemove<Item>(list: readonly Item[], keyOf: (item: Item) => string, item: Item | undefined, remove: string | undefined, what: string): Item[] {
  const key = item ? keyOf(item) : remove;
  const kept = list.filter((entry) => keyOf(entry) !== key);
  if (item) {
    const at = list.findIndex((entry) => keyOf(entry) === key);
    kept.splice(at === -1 ? kept.length : at, 0, item);
  } else if (kept.length === list.length) {
    throw new DepotError('NOT_FOUND', `No replication ${what} ${key ?? ''}.`);
  }
  return kept;
}

/** No nodes: nothing replicates until a section arrives (depot.yaml, or nodes added over HTTP). */
const emptySection: ReplicationSection = replicationSectionSchema.parse({});

function percentile(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? null;
}

/**
 * Replication: places each version on `replication_factor` nodes, queues the copies durably, holds
 * the version invisible until its consistency level is met, replays changes (yank, visibility,
 * owners, signatures) in causal order, and checks and repairs replicas (anti-entropy).
 */
export class ReplicationService implements VisibilityGate {
  readonly queue: ReplicationQueue;
  /** Resolves once the section (handed in or stored) is in force. */
  readonly ready: Promise<void>;
  private readonly nodeMap = new Map<string, ReplicaNode>();
  private readonly settings: ReplicationSettingsRepository;
  private current: ReplicationSection;
  private readonly worker: ReplicationWorker;
  private readonly now: () => number;
  private readonly alerts = new Map<string, ReplicationStatus['alerts'][number]>();
  private gaugeTimer: NodeJS.Timeout | null = null;
  private gaugesDue = false;
  private readonly antiEntropy: ReplicationAntiEntropy;
  private antiEntropyTimer: NodeJS.Timeout | null = null;
  private antiEntropyRunning = false;
  private started = false;
  /** Versions being applied from a registry peer: this registry's own hooks stay quiet for them (no echo). */
  private readonly quiet = new Set<string>();
  private peerTarget: PeerTarget | null = null;
  readonly peers: PeerReceiver;
  /** Bytes placed per node (capacity checks), read once and then kept up to date here. */
  private placedBytes: Map<string, number> | null = null;

  constructor(private readonly options: ReplicationServiceOptions) {
    this.now = options.now ?? Date.now;
    this.queue = options.queue ?? new SqliteReplicationQueue(options.db);
    this.settings = options.settings ?? new SqliteReplicationSettings(options.db);
    this.antiEntropy = new ReplicationAntiEntropy({ queue: this.queue, source: options.source, logger: options.logger });
    this.peers = new PeerReceiver({ queue: this.queue, logger: options.logger, now: this.now, quietly: (name, version, work) => this.quietly(name, version, work) });
    this.current = emptySection;
    this.worker = new ReplicationWorker({
      queue: this.queue,
      nodes: this.nodeMap,
      source: options.source,
      logger: options.logger,
      backoff: () => ({ baseMs: this.current.hints.base_backoff, maxMs: this.current.hints.max_backoff }),
      now: this.now,
    });
    // A section handed in (createCore's option) replaces the stored one; otherwise the stored one is used.
    this.ready = options.section ? this.putInForce(options.section) : this.loadStored();
    this.ready.catch(() => undefined);
  }

  get nodes(): ReadonlyMap<string, ReplicaNode> {
    return this.nodeMap;
  }

  get section(): ReplicationSection {
    return this.current;
  }

  /** The stored section (nodes and rules changed over HTTP or by an earlier --config). */
  private async loadStored(): Promise<void> {
    const stored = await this.settings.load();
    if (stored === null) return;
    const parsed = replicationSectionSchema.safeParse(stored);
    if (!parsed.success) throw new DepotError('VALIDATION_FAILED', `the stored replication section is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    await this.install(parsed.data);
  }

  /** The whole section (a `replication:` section of depot.yaml): validated, stored, in force at once. */
  async replaceSection(section: ReplicationSection): Promise<void> {
    await this.ready;
    await this.putInForce(section);
  }

  private async putInForce(section: ReplicationSection): Promise<void> {
    const written = writeReplicationSection(section);
    const parsed = replicationSectionSchema.safeParse(written);
    if (!parsed.success) throw new DepotError('VALIDATION_FAILED', `replication: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`, { reason: 'bad-section' });
    await this.install(parsed.data);
    await this.settings.save(written, new Date(this.now()).toISOString());
  }

  /** Adds or updates a node (by id) or removes one; the section is checked whole before anything changes. */
  async changeNode(change: ReplicationNodeChange): Promise<ReplicationSectionInput> {
    await this.ready;
    const nodes = upsertOrRemove(this.current.nodes, (node) => node.id, change.node, change.remove, 'node');
    await this.putInForce({ ...this.current, nodes });
    return writeReplicationSection(this.current);
  }

  /** Adds or updates a rule (by name) or removes one. */
  async changeRule(change: ReplicationRuleChange): Promise<ReplicationSectionInput> {
    await this.ready;
    const rules = upsertOrRemove(this.current.rules, (rule) => rule.name, change.rule, change.remove, 'rule');
    await this.putInForce({ ...this.current, rules });
    return writeReplicationSection(this.current);
  }

  /** Puts a section in force: unchanged nodes keep their connection; a removed node's waiting copies are dropped. */
  private async install(section: ReplicationSection): Promise<void> {
    const next = new Map<string, ReplicaNode>();
    for (const config of section.nodes) {
      const existing = this.nodeMap.get(config.id);
      if (existing && JSON.stringify(existing.config) === JSON.stringify(config)) next.set(config.id, existing);
      else next.set(config.id, new ReplicaNode(config, this.options.storageFor ? Promise.resolve(this.options.storageFor(config.id)) : storageForNode(config, this.options.env)));
    }
    const removed = [...this.nodeMap.keys()].filter((id) => !next.has(id));
    const intervalChanged = section.anti_entropy_interval !== this.current.anti_entropy_interval;
    this.current = section;
    if (intervalChanged) this.armAntiEntropy();
    this.nodeMap.clear();
    for (const [id, node] of next) this.nodeMap.set(id, node);
    this.placedBytes = null;
    for (const id of removed) {
      const dropped = await this.queue.dropPending(id);
      if (dropped > 0) this.options.logger.warn(`replication: node ${id} removed; its ${dropped} waiting cop${dropped === 1 ? 'y was' : 'ies were'} dropped`);
    }
    this.worker.kick();
  }

  async start(): Promise<void> {
    const startedAt = this.now();
    await this.ready;
    await this.sweepOrphans(startedAt);
    this.started = true;
    this.armAntiEntropy();
    for (const node of this.nodes.values()) {
      await node.storage.catch((error: unknown) => this.options.logger.error(`replication: node ${node.id} cannot be reached`, error));
    }
    await this.worker.start();
    if (this.options.metrics) {
      this.gaugeTimer = setInterval(() => void this.updateGauges(), 5_000);
      this.gaugeTimer.unref();
      this.onSettled(() => {
        // At most one refresh a second, however many copies settle.
        if (this.gaugesDue) return;
        this.gaugesDue = true;
        setTimeout(() => {
          this.gaugesDue = false;
          void this.updateGauges();
        }, 1_000).unref();
      });
      await this.updateGauges();
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    this.armAntiEntropy();
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    this.gaugeTimer = null;
    await this.worker.stop();
  }

  /** Pushes each node's lag, queue depth and hints to the metrics collector (Prometheus, alert rules). */
  async updateGauges(): Promise<void> {
    const metrics = this.options.metrics;
    if (!metrics) return;
    try {
      const counters = new Map((await this.queue.counters(0)).map((row) => [row.nodeId, row]));
      for (const node of this.nodes.values()) {
        const row = counters.get(node.id);
        metrics.setReplicationLag(node.id, row?.oldestPendingAt ? Math.max(0, (this.now() - row.oldestPendingAt) / 1000) : 0);
        metrics.setReplicationQueue(node.id, row?.pending ?? 0, row?.hints ?? 0);
      }
    } catch (error) {
      this.options.logger.warn(`replication: gauges not updated: ${(error as Error).message}`);
    }
  }

  onSettled(listener: (settled: TaskSettled) => void): () => void {
    this.worker.on('settled', listener);
    return () => this.worker.off('settled', listener);
  }

  /** The level a publish gets: the flag, else its rule's, else the section's. Null: no rule selects it. */
  levelFor(candidate: { name: string; tags: string[] }, requested: ConsistencyLevel | undefined): ConsistencyLevel | null {
    const { rules, consistency } = this.current;
    if (this.nodes.size === 0) return null;
    if (rules.length === 0) return requested ?? consistency;
    const visibility = this.options.packageAccess?.(candidate.name)?.visibility ?? 'internal';
    const rule = matchingRule(rules, { name: candidate.name, visibility, labels: candidate.tags });
    if (!rule) return null;
    return requested ?? rule.consistency ?? consistency;
  }

  async beforeVisible(candidate: VisibilityCandidate, options: { consistency?: ConsistencyLevel | undefined }): Promise<void> {
    await this.ready;
    if (this.quiet.has(`${candidate.name}@${candidate.version}`)) return;
    const level = this.levelFor(candidate, options.consistency);
    if (level === null) {
      if (options.consistency !== undefined && options.consistency !== 'eventual') {
        throw new DepotError('VALIDATION_FAILED', `--consistency ${options.consistency} asked for, but no replication rule selects ${candidate.name} (or no nodes are configured).`, { reason: 'not-replicated' });
      }
      return;
    }
    const rf = this.current.replication_factor;
    const needed = requiredAcks(level, rf);
    const existing = (await this.queue.tasksOf(candidate.name, candidate.version)).filter((task) => task.operation === 'put');
    const placed = existing.length > 0 ? existing.map((task) => task.nodeId) : await this.place(candidate);
    if (placed.length < needed) {
      throw new DepotError('UNAVAILABLE', `${level} needs ${needed} of ${rf} replicas of ${candidate.name}@${candidate.version}, but only ${placed.length} node(s) have room (${placed.join(', ') || 'none'}). The version is not visible.`, {
        reason: 'consistency-not-met',
      });
    }
    const waiter = needed > 0 ? this.waitForPuts(candidate, placed, needed, level) : null;
    if (existing.length === 0) {
      const record = await this.newRecord(candidate, level);
      const tasks: NewReplicationTask[] = placed.map((nodeId) => ({
        name: candidate.name,
        version: candidate.version,
        nodeId,
        operation: 'put',
        changeSeq: 0,
        digest: candidate.digest,
        size: candidate.size,
        recordJson: JSON.stringify(record),
      }));
      await this.queue.enqueue(tasks, this.now());
    } else {
      await this.queue.retryNow(this.now());
    }
    this.worker.kick();
    if (!waiter) return;
    try {
      await waiter.done;
      if (level === 'strong') await this.commit(candidate, placed, level);
    } catch (error) {
      await this.abandon(candidate);
      throw error;
    }
  }

  /**
   * Strong: once every replica confirmed, the commit marker goes to each of them and then to the
   * registry's own table; only then may the version become visible. A replica's record without its
   * marker is a write that never completed (rebuilds skip it; reads through the registry refuse it).
   */
  private async commit(candidate: VisibilityCandidate, nodes: readonly string[], level: ConsistencyLevel): Promise<void> {
    const marker = { format: 'torsh-replica-commit/1' as const, name: candidate.name, version: candidate.version, digest: candidate.digest, consistency: level, nodes: [...nodes], committed_at: this.stamp(null) };
    const failures: string[] = [];
    await Promise.all(
      nodes.map(async (nodeId) => {
        try {
          const node = this.nodes.get(nodeId);
          if (!node) throw new Error('not configured');
          await node.writeMarker(marker);
        } catch (error) {
          failures.push(`${nodeId} (${(error as Error).message})`);
        }
      }),
    );
    if (failures.length > 0) {
      throw new DepotError('UNAVAILABLE', `${level} consistency not met for ${candidate.name}@${candidate.version}: every replica confirmed, but the commit marker could not be written on ${failures.join(', ')}. The version is not visible.`, {
        reason: 'consistency-not-met',
      });
    }
    await this.queue.markCommitted({ name: candidate.name, version: candidate.version, digest: candidate.digest, level, nodes: [...nodes] }, this.now());
  }

  /**
   * The registry's read check: a version written at `strong` is served only once its commit marker
   * is recorded, so a read never returns a version a replica would not.
   */
  async beforeRead(name: string, version: string): Promise<void> {
    if (await this.queue.awaitsCommit(name, version)) {
      throw new DepotError('UNAVAILABLE', `${name}@${version} was written at strong consistency and its commit marker is missing: it is not served until every replica holds it (run replication verify).`, { reason: 'not-committed' });
    }
  }

  /**
   * Copies queued by a publish that never committed (the process died between the queue and the
   * registry's record) are dropped at start, with any record they left on a node.
   */
  private async sweepOrphans(before: number): Promise<void> {
    const exists = this.options.versionExists;
    if (!exists) return;
    for (const entry of await this.queue.versionsQueuedBefore(before)) {
      if (exists(entry.name, entry.version)) continue;
      this.options.logger.warn(`replication: ${entry.name}@${entry.version} was queued by a publish that never committed; its copies are dropped`);
      await this.abandon(entry);
    }
  }

  /**
   * A publish that did not reach its level leaves nothing owed: its queued copies are dropped (the
   * registry discards the unrecorded blob) and the records already written are removed, so no
   * replica, and no rebuild from one, ever shows a version the registry never made visible.
   */
  private async abandon(candidate: Pick<VisibilityCandidate, 'name' | 'version'>): Promise<void> {
    this.placedBytes = null;
    const confirmed = await this.queue.forget(candidate.name, candidate.version);
    for (const nodeId of confirmed) {
      try {
        await this.nodes.get(nodeId)?.deleteRecord(candidate.name, candidate.version);
      } catch (error) {
        this.options.logger.warn(`replication: the record of unpublished ${candidate.name}@${candidate.version} stays on ${nodeId}: ${(error as Error).message}`);
      }
    }
  }

  /** Chooses nodes for a new version; remembers full nodes and shortfalls as alerts. */
  private async place(candidate: VisibilityCandidate): Promise<string[]> {
    this.placedBytes ??= await this.queue.placedBytes();
    const placedBytes = this.placedBytes;
    const result = placeReplicas(
      [...this.nodes.values()].map((node) => ({
        id: node.id,
        region: node.config.region,
        priority: node.config.priority,
        capacityBytes: node.config.capacity ?? null,
        usedBytes: placedBytes.get(node.id) ?? 0,
        enabled: node.config.enabled,
      })),
      this.current.replication_factor,
      candidate.size,
    );
    for (const skipped of result.skipped.filter((entry) => entry.reason === 'full')) {
      const message = `node ${skipped.id} is full: ${candidate.name}@${candidate.version} (${candidate.size} bytes) was placed elsewhere`;
      this.alerts.set(`full:${skipped.id}`, { kind: 'node-full', nodeId: skipped.id, message });
      this.options.logger.warn(`replication: ${message}`);
    }
    if (result.shortBy > 0) {
      this.alerts.set('under-replicated', { kind: 'under-replicated', nodeId: null, message: `${candidate.name}@${candidate.version} has ${result.nodes.length} of ${this.current.replication_factor} replicas: not enough nodes with room` });
    }
    for (const nodeId of result.nodes) placedBytes.set(nodeId, (placedBytes.get(nodeId) ?? 0) + candidate.size);
    return result.nodes;
  }

  private waitForPuts(candidate: VisibilityCandidate, placed: string[], needed: number, level: ConsistencyLevel): { done: Promise<void> } {
    const confirmed = new Set<string>();
    const errors = new Map<string, string>();
    const timeoutMs = this.current.ack_timeout;
    let unsubscribe = (): void => undefined;
    let timer: NodeJS.Timeout | null = null;
    const done = new Promise<void>((resolve, reject) => {
      const finish = (error: DepotError | null): void => {
        unsubscribe();
        if (timer) clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      unsubscribe = this.onSettled(({ task, ok, error }) => {
        if (task.name !== candidate.name || task.version !== candidate.version || task.operation !== 'put') return;
        if (ok) confirmed.add(task.nodeId);
        else if (error) errors.set(task.nodeId, error);
        if (confirmed.size >= needed) finish(null);
      });
      // Copies confirmed before this publish (a retried publish) count too.
      void this.queue.tasksOf(candidate.name, candidate.version).then((tasks) => {
        for (const task of tasks) if (task.operation === 'put' && task.state === 'done') confirmed.add(task.nodeId);
        if (confirmed.size >= needed) finish(null);
      });
      timer = setTimeout(() => {
        const missing = placed.filter((nodeId) => !confirmed.has(nodeId));
        const why = missing.map((nodeId) => `${nodeId} (${errors.get(nodeId) ?? 'no answer'})`).join(', ');
        finish(
          new DepotError(
            'UNAVAILABLE',
            `${level} consistency not met for ${candidate.name}@${candidate.version}: ${confirmed.size} of ${placed.length} replicas confirmed within ${timeoutMs} ms, ${needed} needed. ` +
              `Confirmed: ${[...confirmed].join(', ') || 'none'}; not confirmed: ${why}. The version is not visible and nothing of it stays queued; publish again once the nodes are back.`,
            { reason: 'consistency-not-met' },
          ),
        );
      }, timeoutMs);
    });
    return { done };
  }

  private async newRecord(candidate: VisibilityCandidate, level: ConsistencyLevel): Promise<ReplicaMetaRecord> {
    const { registryId } = this.options;
    const change = await this.queue.nextChange(candidate.name, registryId, (previous) => this.stamp(previous));
    const access = this.options.packageAccess?.(candidate.name) ?? null;
    return {
      format: 'torsh-replica-meta/1',
      name: candidate.name,
      version: candidate.version,
      digest: candidate.digest,
      size: candidate.size,
      manifest: { description: candidate.description, author: candidate.author, license: candidate.license, tags: candidate.tags, dependencies: candidate.dependencies },
      visibility: access?.visibility ?? 'internal',
      owners: access?.owners ?? [],
      yanked: false,
      signatures: [],
      published_at: candidate.publishedAt,
      published_by: candidate.publishedBy,
      committed_at: change.hlc,
      version_vector: change.vector,
      origin: registryId,
      consistency: level,
    };
  }

  private stamp(previous: string | null): string {
    const last = (previous ? parseTimestamp(previous) : null) ?? { wallMs: 0, logical: 0, node: this.options.registryId };
    return formatTimestamp(tickClock({ ...last, node: this.options.registryId }, this.now()));
  }

  /** The registry's `versionChanged` hook: queued in the background, failures logged. */
  versionChanged(name: string, version: string, change: VersionChange): void {
    if (this.quiet.has(`${name}@${version}`)) return;
    void this.recordChange(name, version, change).catch((error: unknown) => this.options.logger.error(`replication: ${name}@${version} change not queued`, error));
  }

  /**
   * A change to a replicated version (yank, visibility, owners, signatures): a new record with the
   * package's vector raised, queued for every node holding the version, applied after its put.
   */
  async recordChange(name: string, version: string, change: Partial<Pick<ReplicaMetaRecord, 'yanked' | 'visibility' | 'owners' | 'signatures'>>): Promise<boolean> {
    const latest = await this.queue.latestRecord(name, version);
    if (latest === null) return false;
    const previous = replicaMetaRecordSchema.parse(JSON.parse(latest) as unknown);
    const clock = await this.queue.nextChange(name, this.options.registryId, (stamp) => this.stamp(stamp));
    const record: ReplicaMetaRecord = { ...previous, ...change, committed_at: clock.hlc, version_vector: clock.vector, origin: this.options.registryId };
    const holders = [...new Set((await this.queue.tasksOf(name, version)).filter((task) => task.operation === 'put').map((task) => task.nodeId))];
    await this.queue.enqueue(
      holders.map((nodeId) => ({ name, version, nodeId, operation: 'meta', changeSeq: clock.seq, digest: previous.digest, size: previous.size, recordJson: JSON.stringify(record) })),
      this.now(),
    );
    this.worker.kick();
    return true;
  }

  /**
   * Opens a copy of these bytes on a replica: nodes without waiting hints first, then the nearest to
   * this registry's `region`, then priority. Null when no node that confirmed a copy answers.
   */
  async openReplica(digest: string, range?: ByteRange): Promise<{ nodeId: string; stream: Readable } | null> {
    const holders = new Set(await this.queue.holdersOf(digest));
    const counters = new Map((await this.queue.counters(0)).map((row) => [row.nodeId, row]));
    const here = this.current.region;
    const distance = (region: string): number => (here === undefined ? 0 : (regionDistanceKm(here, region) ?? Number.POSITIVE_INFINITY));
    const candidates = [...this.nodes.values()]
      .filter((node) => holders.has(node.id))
      .sort((a, b) => Number((counters.get(a.id)?.hints ?? 0) > 0) - Number((counters.get(b.id)?.hints ?? 0) > 0) || distance(a.config.region) - distance(b.config.region) || a.config.priority - b.config.priority);
    for (const node of candidates) {
      try {
        return { nodeId: node.id, stream: await node.open(digest, range) };
      } catch (error) {
        this.options.logger.warn(`replication: ${node.id} cannot serve ${digest}: ${(error as Error).message}`);
      }
    }
    return null;
  }

  /**
   * The registry's read fallback: when its own blob store cannot open a version's bytes, they are
   * served from the nearest healthy replica, and the local copy is repaired from it in the background.
   */
  async readFallback(digestHex: string, range: ByteRange | undefined): Promise<Readable | null> {
    const digest = `sha256:${digestHex}`;
    const opened = await this.openReplica(digest, range);
    if (!opened) return null;
    this.options.logger.warn(`replication: ${digest} is not readable from the blob store; served from ${opened.nodeId}`);
    const repair = this.options.repairLocal;
    const node = this.nodes.get(opened.nodeId);
    if (repair && node) {
      void repair(digestHex, () => node.open(digest)).then(
        () => this.options.logger.info(`replication: read repair restored ${digest} from ${opened.nodeId}`),
        (error: unknown) => this.options.logger.warn(`replication: read repair of ${digest} failed: ${(error as Error).message}`),
      );
    }
    return opened.stream;
  }

  async placement(name: string, version: string): Promise<ReplicaPlacement> {
    const tasks = await this.queue.tasksOf(name, version);
    const byNode = new Map<string, ReplicaPlacement['nodes'][number]>();
    for (const task of tasks) {
      const seen = byNode.get(task.nodeId);
      // A node holds the version once its put is done; its state is its latest change's.
      if (!seen || task.operation === 'meta') byNode.set(task.nodeId, { nodeId: task.nodeId, state: task.state, confirmedAt: task.confirmedAt ?? seen?.confirmedAt ?? null });
    }
    return { name, version, nodes: [...byNode.values()] };
  }

  listQueue(options: { nodeId?: string; limit?: number } = {}): Promise<ReplicationTask[]> {
    return this.queue.list({ ...(options.nodeId !== undefined ? { nodeId: options.nodeId } : {}), limit: options.limit ?? 500 });
  }

  /** The registry a peer's copies are applied to (set by the composition root once it exists). */
  attachPeerTarget(target: PeerTarget): void {
    this.peerTarget = target;
  }

  /** The receiving side of a registry peer (routes under `/api/v1/replication/replica/`). */
  peerTargetOrFail(): PeerTarget {
    if (!this.peerTarget) throw new DepotError('UNAVAILABLE', 'This registry cannot receive replicas (no registry attached).');
    return this.peerTarget;
  }

  private async quietly<Result>(name: string, version: string, work: () => Promise<Result>): Promise<Result> {
    const key = `${name}@${version}`;
    this.quiet.add(key);
    try {
      return await work();
    } finally {
      this.quiet.delete(key);
    }
  }

  /** Copies not yet confirmed, all nodes (cheap: one indexed count). */
  queueDepth(): Promise<number> {
    return this.queue.depth();
  }

  async retry(nodeId?: string): Promise<number> {
    if (nodeId !== undefined && !this.nodes.has(nodeId)) throw new DepotError('NOT_FOUND', `No replication node ${nodeId}.`);
    const count = await this.queue.retryNow(this.now(), nodeId);
    this.worker.kick();
    return count;
  }

  async status(): Promise<ReplicationStatus> {
    const section = this.current;
    const counters = new Map((await this.queue.counters(lagSamples)).map((row) => [row.nodeId, row]));
    const alerts = [...this.alerts.values()];
    const nodes = [...this.nodes.values()].map((node) => {
      const row = counters.get(node.id);
      const lags = row?.lagsMs ?? [];
      const hints = row?.hints ?? 0;
      const lagP95Ms = percentile(lags, 0.95);
      if (hints > section.hints.alert_over) alerts.push({ kind: 'hints-piling-up', nodeId: node.id, message: `${hints} hints wait for node ${node.id} (alert over ${section.hints.alert_over})` });
      if (lagP95Ms !== null && lagP95Ms > section.alerts.lag_over) alerts.push({ kind: 'lag', nodeId: node.id, message: `node ${node.id} lags ${Math.round(lagP95Ms)} ms at p95 (alert over ${section.alerts.lag_over} ms)` });
      return {
        id: node.id,
        region: node.config.region,
        kind: replicationNodeKind(node.config),
        endpoint: node.config.endpoint,
        priority: node.config.priority,
        capacityBytes: node.config.capacity ?? null,
        usedBytes: row?.placedBytes ?? 0,
        // Outcome of the latest copies; the shared probe machinery adds periodic checks.
        status: hints > 0 ? ('unhealthy' as const) : (row?.done ?? 0) > 0 ? ('healthy' as const) : ('unknown' as const),
        lastError: hints > 0 ? (row?.lastError ?? null) : null,
        queueDepth: row?.pending ?? 0,
        hints,
        confirmed: row?.done ?? 0,
        errors: row?.errors ?? 0,
        bytes: row?.bytes ?? 0,
        lagAvgMs: lags.length > 0 ? lags.reduce((sum, lag) => sum + lag, 0) / lags.length : null,
        lagP95Ms,
      };
    });
    return { replicationFactor: section.replication_factor, consistency: section.consistency, nodes, queueDepth: nodes.reduce((sum, node) => sum + node.queueDepth, 0), alerts };
  }

  /**
   * Anti-entropy now: hash trees per node (or, with `deep`, every copy re-hashed); what is missing,
   * corrupt or stale is rewritten. Runs as a job (progress, cancel, kept in the job history) when the
   * registry has a jobs runner.
   */
  async verify(options: { deep?: boolean; nodeId?: string; repair?: boolean } = {}): Promise<VerifyReport & { jobId: string | null }> {
    await this.ready;
    const nodes = [...this.nodes.values()].filter((node) => options.nodeId === undefined || node.id === options.nodeId);
    if (options.nodeId !== undefined && nodes.length === 0) throw new DepotError('NOT_FOUND', `No replication node ${options.nodeId}.`);
    const request = { ...(options.deep !== undefined ? { deep: options.deep } : {}), ...(options.repair !== undefined ? { repair: options.repair } : {}) };
    const jobs = this.options.jobs;
    if (!jobs) return { ...(await this.antiEntropy.verify(nodes, request)), jobId: null };
    const title = `Replication anti-entropy${options.deep ? ' (deep)' : ''}${options.nodeId !== undefined ? ` on ${options.nodeId}` : ''}`;
    const handle = jobs.start('replication-anti-entropy', title, { deep: options.deep ?? false, node: options.nodeId ?? null }, (context) =>
      this.antiEntropy.verify(nodes, { ...request, signal: context.signal, onProgress: (fraction, message) => context.reportProgress(fraction, message) }),
    );
    return { ...(await handle.done), jobId: handle.record.id };
  }

  /** The periodic pass (`anti_entropy_interval`): one at a time, only while there are nodes. */
  private armAntiEntropy(): void {
    if (this.antiEntropyTimer) clearInterval(this.antiEntropyTimer);
    this.antiEntropyTimer = null;
    if (!this.started) return;
    this.antiEntropyTimer = setInterval(() => {
      if (this.antiEntropyRunning || this.nodeMap.size === 0) return;
      this.antiEntropyRunning = true;
      void this.verify()
        .catch((error: unknown) => this.options.logger.warn(`replication: anti-entropy failed: ${(error as Error).message}`))
        .finally(() => {
          this.antiEntropyRunning = false;
        });
    }, this.current.anti_entropy_interval);
    this.antiEntropyTimer.unref();
  }
}
