import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../../electron/services/signing/ed25519-keys';
import { encodePublicKey } from '../../../electron/services/signing/minisign-format';
import { parseDepotConfig, ConfigFileError } from '../../../electron/services/config/depot-config-file';
import type { MirrorView } from '../../../shared/domain/mirrors';
import { makeTempDir } from '../../support/temp-dir';
import { newTestCore } from '../../support/test-core';
import { runCliProcess, startServe, stopAllServing } from '../../support/cli-process';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stopAllServing());

function tempDir(): string {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  return temp.dir;
}

const goodYaml = `mirrors:
  selection_strategy: geographic
  health_check_interval: 90s
  failover: { enabled: true, max_retries: 3, retry_delay: 5s, auto_fallback: true, stall_timeout: 10s, min_rate: 64KiB }
  trusted_keys: [ ./registry.pub ]
  list:
    - { id: mirror-us, url: "https://us-mirror.example.com", region: us-east-1, priority: 1, weight: 100, sync_to: "s3://us-mirror-bucket/torsh?region=us-east-1" }
    - { id: mirror-eu, url: "https://eu-mirror.example.com", region: eu-central-1, priority: 1, weight: 100 }
    - { id: mirror-down, url: "http://127.0.0.1:9", priority: 2 }
`;

function issuesOf(text: string): Array<{ path: string; message: string }> {
  try {
    parseDepotConfig(text, 'depot.yaml');
  } catch (error) {
    if (error instanceof ConfigFileError) return error.issues;
    throw error;
  }
  return [];
}

describe('depot.yaml', () => {
  it('names every bad field by its path: bad URL, unknown key, unknown section, not-built section, bad duration, YAML syntax', () => {
    expect(issuesOf(goodYaml)).toEqual([]);
    const issues = issuesOf(`mirror: {}
mirrors:
  colour: red
  health_check_interval: soon
  list:
    - { id: ok, url: "https://ok.example.com" }
    - { id: bad, url: "ftp://mirror.example.com" }
backup: { repository: "file:///srv/backup" }
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'mirror', message: expect.stringMatching(/unknown section/) },
        { path: 'mirrors.colour', message: 'unknown key' },
        { path: 'mirrors.health_check_interval', message: expect.stringMatching(/not a duration/) },
        { path: 'mirrors.list.1.url', message: expect.stringMatching(/http:\/\/ or https:\/\//) },
        { path: 'backup.repository', message: 'unknown key' },
      ]),
    );
    expect(issuesOf('mirrors:\n  list: [ { id: a, url: "https://a" } ]\n  list: []\n')[0]!.message).toMatch(/line \d+/);
    expect(issuesOf('{"mirrors": {"selection_strategy": "fastest"}}')[0]).toMatchObject({ path: 'mirrors.selection_strategy' });
    expect(issuesOf('backup: {}\ndeploy:\n')).toEqual([]);
  });

  it('config check resolves secret references (an unset ${ENV}, a file readable by others) and config schema prints a JSON Schema', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'registry.pub'), encodePublicKey(generateSigningKeyPair()));
    const good = path.join(dir, 'depot.yaml');
    writeFileSync(good, goodYaml);
    const ok = await runCliProcess(['config', 'check', good, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, sections: ['mirrors'] });

    const token = path.join(dir, 'cf-token');
    writeFileSync(token, 'secret-token\n');
    chmodSync(token, 0o644);
    const withSecrets = path.join(dir, 'secrets.yaml');
    writeFileSync(withSecrets, `cdn:\n  provider: cloudflare\n  origin: { storage: registry }\n  cloudflare: { zone_id: abc123, api_token: "file:./cf-token", token_auth_secret: "\${CF_AUTH_SECRET}" }\n`);
    const refused = await runCliProcess(['config', 'check', withSecrets], { ...process.env, CF_AUTH_SECRET: '' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cdn\.cloudflare\.api_token: .*readable by other users; chmod 600/);
    expect(refused.stderr).toMatch(/cdn\.cloudflare\.token_auth_secret: .*not set in the environment/);
    chmodSync(token, 0o600);
    const accepted = await runCliProcess(['config', 'check', withSecrets], { ...process.env, CF_AUTH_SECRET: 'hmac' });
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
    const inline = path.join(dir, 'inline.yaml');
    writeFileSync(inline, `cdn:\n  provider: cloudflare\n  origin: { storage: registry }\n  cloudflare: { zone_id: abc123, api_token: "plain-token-in-the-file" }\n`);
    expect((await runCliProcess(['config', 'check', inline])).stderr).toMatch(/cdn\.cloudflare\.api_token: a secret is written as/);

    const schema = await runCliProcess(['config', 'schema']);
    expect(schema.code).toBe(0);
    const parsed = JSON.parse(schema.stdout) as { properties: Record<string, { properties?: Record<string, unknown> }>; additionalProperties: boolean };
    expect(Object.keys(parsed.properties)).toEqual(['storage', 'mirrors', 'cdn', 'replication', 'backup', 'deploy']);
    expect(parsed.additionalProperties).toBe(false);
    expect(Object.keys(parsed.properties.mirrors!.properties!)).toEqual(expect.arrayContaining(['selection_strategy', 'health_check_interval', 'failover', 'trusted_keys', 'list']));
  }, 60_000);

  it('serve --config applies the mirrors section (keys relative to the file); a bad file stops start-up and changes nothing', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'registry.pub'), encodePublicKey(generateSigningKeyPair()));
    const file = path.join(dir, 'depot.yaml');
    writeFileSync(file, goodYaml);
    const env = { ...process.env, TORSH_DEPOT_ADMIN_KEY: 'config-admin-key-0123456789abcdef' };
    const host = await startServe(['--config', file, '--port', '0', '--data-dir', path.join(dir, 'data')], env);
    const origin = new URL(host.url).origin;
    const list = (await (await fetch(`${origin}/api/v1/mirrors`, { headers: { Authorization: `Bearer ${env.TORSH_DEPOT_ADMIN_KEY}` } })).json()) as { mirrors: MirrorView[] };
    expect(list.mirrors.map((view) => view.config.id)).toEqual(['mirror-us', 'mirror-eu', 'mirror-down']);
    const settings = (await (await fetch(`${origin}/api/v1/mirrors/settings`, { headers: { Authorization: `Bearer ${env.TORSH_DEPOT_ADMIN_KEY}` } })).json()) as Record<string, unknown>;
    expect(settings).toMatchObject({ selection_strategy: 'geographic', health_check_interval: '90s', trusted_keys: [path.join(dir, 'registry.pub')] });
    expect(await host.stop()).toBe(0);

    writeFileSync(file, goodYaml.replace('https://eu-mirror.example.com', 'gopher://eu'));
    const refused = await runCliProcess(['serve', '--config', file, '--port', '0', '--data-dir', path.join(dir, 'data')], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/mirrors\.list\.1\.url/);
  }, 60_000);

  it('the desktop exports its settings as depot.yaml and imports one through the contract; an invalid file changes nothing', async () => {
    const { core, work } = newTestCore(cleanups);
    writeFileSync(path.join(work, 'registry.pub'), encodePublicKey(generateSigningKeyPair()));
    const call = async <T>(channel: string, input: unknown): Promise<T> => {
      const answer = (await core.router.dispatch(channel as never, input as never, { origin: 'test' })) as { ok: boolean; result?: T; error?: { message: string } };
      if (!answer.ok) throw new Error(answer.error!.message);
      return answer.result!;
    };
    const text = goodYaml.replace('./registry.pub', path.join(work, 'registry.pub'));
    expect(await call('config.import', { text })).toEqual({ applied: ['mirrors'], notApplied: [] });
    const exported = await call<{ fileName: string; text: string }>('config.export', {});
    expect(exported.fileName).toBe('depot.yaml');
    const reparsed = parseDepotConfig(exported.text, 'exported');
    expect(reparsed.mirrors!.list.map((mirror) => mirror.id)).toEqual(['mirror-us', 'mirror-eu', 'mirror-down']);
    expect(reparsed.mirrors!.health_check_interval).toBe(90_000);
    expect(await call('config.check', { text: 'mirrors: { list: [ { id: x, url: "ftp://x" } ] }' })).toMatchObject({ ok: false, issues: [{ path: 'mirrors.list.0.url' }] });
    await expect(call('config.import', { text: 'mirrors: { list: [] }\nbogus: 1' })).rejects.toThrow(/bogus/);
    expect((await call<MirrorView[]>('mirrors.list', {})).length).toBe(3);
  });
});
