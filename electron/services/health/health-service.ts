import { statSync } from 'node:fs';
import type { Health } from '../../../shared/domain/health';

export interface HealthSources {
  version: string;
  shell: Health['shell'];
  dataDir: string;
  databaseFile: string;
  startedAt: number;
  runningJobs(): number;
  /** Capabilities add checks; each returns a problem sentence or null. */
  checks: Array<() => string | null>;
}

export class HealthService {
  constructor(private readonly sources: HealthSources) {}

  current(): Health {
    const problems = this.sources.checks.map((check) => check()).filter((problem): problem is string => problem !== null);
    return {
      status: problems.length === 0 ? 'ok' : 'degraded',
      version: this.sources.version,
      shell: this.sources.shell,
      uptimeSeconds: Math.round((Date.now() - this.sources.startedAt) / 1000),
      dataDir: this.sources.dataDir,
      databaseBytes: fileSize(this.sources.databaseFile) + fileSize(`${this.sources.databaseFile}-wal`),
      runningJobs: this.sources.runningJobs(),
      problems,
    };
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
