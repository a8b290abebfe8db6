import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { DataFolderCheckResult } from '../../shared/domain/jobs';
import type { Health } from '../../shared/domain/health';
import { openDatabase } from './database/open-database';
import { migrations as allMigrations } from './database/migrations';
import type { Migration } from './database/migration';
import { EventBus } from './events/event-bus';
import { SettingsService } from './settings/settings-service';
import { JsonFileSettingsBackend, type SettingsBackend } from './settings/settings-backend';
import { FileSecretStore, type SecretStore } from './secrets/secret-store';
import { JobRepository } from './jobs/job-repository';
import { JobRunner, type JobHandle } from './jobs/job-runner';
import { runDataFolderCheck } from './jobs/data-folder-check';
import { HealthService } from './health/health-service';
import { RequestRouter } from './rpc/request-router';
import { createRequestHandlers } from './rpc/request-handlers';
import { createConsoleLogger, type Logger } from './logger';
import { appVersion } from './version';

export interface CoreOptions {
  dataDir: string;
  shell: Health['shell'];
  /** Desktop: electron-store. Default: `settings.json` in the data folder, written atomically. */
  settingsBackend?: SettingsBackend;
  /** Desktop: safeStorage-sealed. Default: a 0600 `secrets.json` in the data folder. */
  secretStore?: SecretStore;
  logger?: Logger;
  /** Tests pass extra migrations to exercise failures; production uses the product list. */
  migrations?: readonly Migration[];
  maxConcurrentJobs?: number;
}

export interface Core {
  readonly dataDir: string;
  readonly db: Database;
  readonly events: EventBus;
  readonly settings: SettingsService;
  readonly secrets: SecretStore;
  readonly jobs: JobRunner;
  readonly health: HealthService;
  readonly router: RequestRouter;
  readonly logger: Logger;
  /** Scratch space inside the data folder for temp files; emptied at every start. */
  readonly tmpDir: string;
  startDataFolderCheck(sizeMiB: number): JobHandle<DataFolderCheckResult>;
  close(): Promise<void>;
}

/** The one place services are built and wired, for every shell (desktop, headless host, CLI, tests). */
export function createCore(options: CoreOptions): Core {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmpDir = path.join(dataDir, 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  const logger = options.logger ?? createConsoleLogger();
  // Leftovers of a crash (half-written temp files) are never valid data; sweep before any job runs.
  sweepTempDir(tmpDir, logger);
  const databaseFile = path.join(dataDir, 'torsh-depot.sqlite');
  const db = openDatabase(databaseFile, options.migrations ?? allMigrations);

  const events = new EventBus();
  const settings = new SettingsService(options.settingsBackend ?? new JsonFileSettingsBackend(path.join(dataDir, 'settings.json')));
  const secrets = options.secretStore ?? new FileSecretStore(path.join(dataDir, 'secrets.json'));
  const jobs = new JobRunner({
    repository: new JobRepository(db),
    events,
    logger,
    maxConcurrent: options.maxConcurrentJobs ?? 2,
    historyLimit: () => settings.get().jobHistoryLimit,
  });
  const startedAt = Date.now();
  const health = new HealthService({
    version: appVersion,
    shell: options.shell,
    dataDir,
    databaseFile,
    startedAt,
    runningJobs: () => jobs.runningCount(),
    checks: [],
  });

  let closed = false;
  const partial = {
    dataDir,
    tmpDir,
    db,
    events,
    settings,
    secrets,
    jobs,
    health,
    logger,
    startDataFolderCheck: (sizeMiB: number) =>
      jobs.start('data-folder-check', `Data folder check (${sizeMiB} MiB)`, { sizeMiB }, (context) => runDataFolderCheck(db, tmpDir, sizeMiB, context)),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await jobs.shutdown();
      db.close();
    },
  };
  const router = new RequestRouter(createRequestHandlers(partial), logger);
  return { ...partial, router };
}

function sweepTempDir(tmpDir: string, logger: Logger): void {
  try {
    const names = readdirSync(tmpDir);
    for (const name of names) rmSync(path.join(tmpDir, name), { recursive: true, force: true });
    if (names.length > 0) logger.info(`removed ${names.length} leftover temporary file(s)`);
  } catch (error) {
    logger.warn(`could not sweep ${tmpDir}: ${(error as Error).message}`);
  }
}
