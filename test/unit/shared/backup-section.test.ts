import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { backupSectionSchema } from '../../../shared/domain/backup';

describe('the backup: section of depot.yaml', () => {
  it('accepts the README example and fills defaults', () => {
    const readme = readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');
    const block = /```yaml\n(backup:\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const section = backupSectionSchema.parse((parse(block ?? '') as { backup: unknown }).backup);
    expect(section.repositories[0]).toMatchObject({ id: 'offsite', strategy: 'incremental', compression: { codec: 'zstd', level: 3 }, keep: { daily: 7, weekly: 5 } });
  });

  it('refuses an inline passphrase, a bad cron expression and unknown fields', () => {
    const base = { id: 'local', repo: 'file:///srv/backups', passphrase: '${BACKUP_PASSPHRASE}' };
    expect(backupSectionSchema.safeParse({ repositories: [base] }).success).toBe(true);
    expect(backupSectionSchema.safeParse({ repositories: [{ ...base, passphrase: 'hunter2' }] }).success).toBe(false);
    expect(backupSectionSchema.safeParse({ repositories: [{ ...base, schedule: 'every day' }] }).success).toBe(false);
    expect(backupSectionSchema.safeParse({ repositories: [{ ...base, keepDaily: 3 }] }).success).toBe(false);
  });
});
