import { EventEmitter, setMaxListeners } from 'node:events';
import { replicaMetaRecordSchema } from '../../../shared/domain/replication';
import type { Logger } from '../logger';
import { backoffDelayMs } from '../retry/retry-backoff';
import type { ReplicaNode, ReplicaSource } from './replica-node';
import type { QueuedTask, ReplicationQueue } from './replication-queue';

export interface TaskSettled {
  task: QueuedTask;
  ok: boolean;
  error: string | null;
}

export interface ReplicationWorkerOptions {
  queue: ReplicationQueue;
  nodes: ReadonlyMap<string, ReplicaNode>;
  source: ReplicaSource;
  logger: Logger;
  /** Hints: exponential backoff with full jitter, capped (≤ 30 s by the section schema). */
  backoff: () => { baseMs: number; maxMs: number };
  now?: () => number;
  random?: () => number;
}

/**
 * Drains the persistent queue: claims due tasks (oldest first, causal order per node, at most
 * `max_transfers` in flight per node), copies them, and records the outcome. A failed copy stays
 * queued as a hint with its next attempt set by the backoff, so a node that was down catches up
 * when it returns. Emits `settled` for every attempt.
 */
export class ReplicationWorker extends EventEmitter<{ settled: [TaskSettled] }> {
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private again = false;
  private started = false;
  private readonly now: () => number;

  constructor(private readonly options: ReplicationWorkerOptions) {
    super();
    this.now = options.now ?? Date.now;
    // Every copy in flight listens for the stop: many per node, by design.
    setMaxListeners(0, this.abort.signal);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const recovered = await this.options.queue.recoverInterrupted();
    if (recovered > 0) this.options.logger.warn(`replication: ${recovered} copies interrupted by a stop are queued again`);
    this.kick();
  }

  /** Looks for due work now (after an enqueue, or a retry request). */
  kick(): void {
    if (!this.started || this.abort.signal.aborted) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Stops claiming, cancels copies in flight (they stay queued) and waits for them. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.running]);
  }

  get activeTransfers(): number {
    return this.running.size;
  }

  private slots(nodeId: string): number {
    const node = this.options.nodes.get(nodeId);
    if (!node) return 0;
    return Math.max(0, node.config.max_transfers - (this.inFlight.get(nodeId) ?? 0));
  }

  private async pump(): Promise<void> {
    try {
      // Never look at more rows than free slots could take (a claim scans candidates, oldest first).
      let free = 0;
      for (const nodeId of this.options.nodes.keys()) free += this.slots(nodeId);
      const claimed = free === 0 ? [] : await this.options.queue.claimDue(this.now(), (nodeId) => this.slots(nodeId), free);
      for (const task of claimed) {
        this.inFlight.set(task.nodeId, (this.inFlight.get(task.nodeId) ?? 0) + 1);
        const run = this.run(task).finally(() => {
          this.running.delete(run);
          this.inFlight.set(task.nodeId, (this.inFlight.get(task.nodeId) ?? 1) - 1);
          this.kick();
        });
        this.running.add(run);
      }
      await this.scheduleNext();
    } catch (error) {
      if (!this.abort.signal.aborted) this.options.logger.error('replication: the queue could not be read', error);
    }
  }

  private async scheduleNext(): Promise<void> {
    if (this.abort.signal.aborted) return;
    const due = await this.options.queue.nextDueAt();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (due === null) return;
    const delay = Math.max(50, due - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, delay);
    this.timer.unref();
  }

  private async run(task: QueuedTask): Promise<void> {
    const node = this.options.nodes.get(task.nodeId);
    try {
      if (!node) throw new Error(`node ${task.nodeId} is not configured`);
      const record = replicaMetaRecordSchema.parse(JSON.parse(task.recordJson) as unknown);
      if (task.operation === 'put') await node.writeVersion(record, this.options.source, this.abort.signal);
      else await node.writeRecord(record, this.abort.signal);
      await this.options.queue.markDone(task.id, this.now());
      this.emit('settled', { task, ok: true, error: null });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const delay = backoffDelayMs(task.attempts - 1, { ...this.options.backoff(), ...(this.options.random ? { random: this.options.random } : {}) });
      // A stop is not the node's fault: the task is due again at once on the next start.
      const next = this.abort.signal.aborted ? this.now() : this.now() + Math.max(delay, 100);
      await this.options.queue.markFailed(task.id, message, next).catch(() => undefined);
      if (!this.abort.signal.aborted) this.options.logger.warn(`replication: ${task.name}@${task.version} to ${task.nodeId} failed (attempt ${task.attempts}): ${message}`);
      this.emit('settled', { task, ok: false, error: message });
    }
  }
}
