import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SettingsService } from '../../../../electron/services/settings/settings-service';
import { JsonFileSettingsBackend } from '../../../../electron/services/settings/settings-backend';
import { defaultSettings } from '../../../../shared/domain/settings';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function settingsFile(): string {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  return path.join(temp.dir, 'settings.json');
}

describe('SettingsService over a JSON file', () => {
  it('starts from defaults, persists updates atomically and reloads them', async () => {
    const file = settingsFile();
    const service = new SettingsService(new JsonFileSettingsBackend(file));
    expect(service.get()).toEqual(defaultSettings);
    await service.update({ theme: 'dark', jobHistoryLimit: 50 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ theme: 'dark', jobHistoryLimit: 50 });
    expect(readdirSync(path.dirname(file))).toEqual(['settings.json']);
    expect(new SettingsService(new JsonFileSettingsBackend(file)).get()).toMatchObject({ theme: 'dark', jobHistoryLimit: 50 });
  });

  it('an update changes only the fields it names', async () => {
    const service = new SettingsService(new JsonFileSettingsBackend(settingsFile()));
    await service.update({ jobHistoryLimit: 50, registries: [{ id: 'team', label: 'Team', url: 'http://127.0.0.1:9/', apiKeySecret: null }] });
    await service.update({ theme: 'dark' });
    await service.update({ defaultRegistryId: 'team' });
    expect(service.get()).toMatchObject({ theme: 'dark', jobHistoryLimit: 50, defaultRegistryId: 'team', registries: [{ id: 'team' }] });
  });

  it('refuses invalid updates and changes nothing', async () => {
    const file = settingsFile();
    const service = new SettingsService(new JsonFileSettingsBackend(file));
    await expect(service.update({ theme: 'neon' } as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(service.update({ jobHistoryLimit: 1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(service.get()).toEqual(defaultSettings);
  });

  it('keeps the valid part of a file written by another version', () => {
    const file = settingsFile();
    writeFileSync(file, JSON.stringify({ theme: 'light', jobHistoryLimit: 'lots', futureOption: true }));
    expect(new SettingsService(new JsonFileSettingsBackend(file)).get()).toEqual({ ...defaultSettings, theme: 'light' });
  });

  it('stops with a clear error on a corrupt file instead of overwriting it', () => {
    const file = settingsFile();
    writeFileSync(file, '{ not json');
    expect(() => new SettingsService(new JsonFileSettingsBackend(file))).toThrow(/not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe('{ not json');
  });
});
