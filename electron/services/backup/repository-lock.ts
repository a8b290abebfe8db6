import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { DepotError } from '../../../shared/errors';
import { isAlive } from '../fs/data-dir-lock';
import type { StorageBackend } from '../storage/storage-backend';
import { StorageError } from '../storage/storage-errors';
import { listKeys, lockSchema, objectKeys, parseWith, readObject, writeObject, type LockRecord } from './repository-format';

/** A lock not refreshed for this long is stale (its holder died or lost the network). */
export const staleLockMs = 30 * 60 * 1000;
const refreshEveryMs = 5 * 60 * 1000;

export type LockKind = LockRecord['kind'];

export interface FoundLock {
  key: string;
  record: LockRecord;
  stale: boolean;
}

/** Stale: not refreshed for 30 minutes, or held by a process of this host that no longer runs. */
export function isStale(record: LockRecord, now = Date.now()): boolean {
  if (now - Date.parse(record.refreshed) > staleLockMs) return true;
  return record.host === os.hostname() && record.pid !== process.pid && !isAlive(record.pid);
}

export async function listLocks(storage: StorageBackend): Promise<FoundLock[]> {
  const locks: FoundLock[] = [];
  for (const { key } of await listKeys(storage, objectKeys.locks)) {
    try {
      const record = parseWith(lockSchema, await readObject(storage, key), `Lock ${key}`);
      locks.push({ key, record, stale: isStale(record) });
    } catch (error) {
      // A lock deleted between list and get is simply gone.
      if (!(error instanceof StorageError && error.kind === 'NotFound')) throw error;
    }
  }
  return locks;
}

function conflicts(kind: LockKind, other: LockRecord): boolean {
  return kind === 'exclusive' || other.kind === 'exclusive';
}

/**
 * A held repository lock. Shared locks (backup, restore, verify) coexist; an exclusive one (prune,
 * forget) excludes every other. Taking one writes it, then lists again, so two hosts racing for the
 * same bucket both see each other and the later one backs off.
 */
export class RepositoryLock {
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly storage: StorageBackend,
    readonly key: string,
    private record: LockRecord,
  ) {}

  static async acquire(storage: StorageBackend, kind: LockKind, operation: string): Promise<RepositoryLock> {
    const blocking = (locks: FoundLock[], ownKey: string | null): FoundLock | undefined => locks.find((lock) => lock.key !== ownKey && !lock.stale && conflicts(kind, lock.record));
    const before = blocking(await listLocks(storage), null);
    if (before) throw lockedError(before);
    const now = new Date().toISOString();
    const record: LockRecord = { kind, host: os.hostname(), pid: process.pid, created: now, refreshed: now, operation };
    const key = `${objectKeys.locks}${randomBytes(16).toString('hex')}`;
    await writeObject(storage, key, Buffer.from(JSON.stringify(record)));
    const after = blocking(await listLocks(storage), key);
    if (after) {
      await storage.delete(key);
      throw lockedError(after);
    }
    const lock = new RepositoryLock(storage, key, record);
    lock.timer = setInterval(() => void lock.refresh().catch(() => undefined), refreshEveryMs);
    lock.timer.unref();
    return lock;
  }

  async refresh(): Promise<void> {
    this.record = { ...this.record, refreshed: new Date().toISOString() };
    await writeObject(this.storage, this.key, Buffer.from(JSON.stringify(this.record)));
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.storage.delete(this.key);
  }
}

function lockedError(lock: FoundLock): DepotError {
  const { record } = lock;
  return new DepotError(
    'CONFLICT',
    `The repository is locked (${record.kind}, ${record.operation}) by ${record.host} pid ${record.pid} since ${record.created}. If that process is gone, run backup unlock.`,
    { reason: 'repository-locked' },
  );
}

/** Removes stale locks (or all, with `all`); returns how many went. */
export async function removeLocks(storage: StorageBackend, all: boolean): Promise<number> {
  let removed = 0;
  for (const lock of await listLocks(storage)) {
    if (all || lock.stale) {
      await storage.delete(lock.key);
      removed += 1;
    }
  }
  return removed;
}

/** Runs `work` under a lock, releasing it even when the work fails. */
export async function withLock<T>(storage: StorageBackend, kind: LockKind, operation: string, work: () => Promise<T>): Promise<T> {
  const lock = await RepositoryLock.acquire(storage, kind, operation);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
