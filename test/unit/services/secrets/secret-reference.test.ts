import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSecretReference } from '../../../../electron/services/secrets/secret-reference';
import { makeTempDir } from '../../../support/temp-dir';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('secret references', () => {
  it('reads ${ENV} and 0600 file: references, and names the reference (never a value) when missing', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 'token');
    writeFileSync(file, 'from-file\n', { mode: 0o600 });
    expect(await resolveSecretReference('${CDN_TOKEN}', { env: { CDN_TOKEN: 'from-env' } })).toBe('from-env');
    expect(await resolveSecretReference(`file:${file}`)).toBe('from-file');
    expect(await resolveSecretReference('file:token', { baseDir: dir })).toBe('from-file');
    await expect(resolveSecretReference('${CDN_TOKEN}', { env: {} })).rejects.toMatchObject({ reason: 'secret-missing' });
    await expect(resolveSecretReference('inline-value')).rejects.toMatchObject({ reason: 'secret-inline' });
    chmodSync(file, 0o644);
    await expect(resolveSecretReference(`file:${file}`)).rejects.toMatchObject({ reason: 'secret-permissions' });
  });
});
