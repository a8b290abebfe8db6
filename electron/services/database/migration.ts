import type { Database } from 'better-sqlite3';

/** One schema step. Append new ones; never edit or reorder a released migration. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Database): void;
}
