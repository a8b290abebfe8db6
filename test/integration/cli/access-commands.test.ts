import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess, startServe, type CliResult, type ServingHost } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';

const adminKey = 'cli-access-admin-key-0123456789';
let host: ServingHost;
let registry: string;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  const data = makeTempDir();
  cleanups.push(data.cleanup);
  host = await startServe(['--port', '0', '--data-dir', data.dir], { ...process.env, TORSH_DEPOT_ADMIN_KEY: adminKey });
  registry = new URL(host.url).origin;
});

afterAll(async () => {
  await host?.stop();
  for (const cleanup of cleanups.reverse()) cleanup();
});

function cli(args: string[], key: string | null = adminKey): Promise<CliResult> {
  const env = { ...process.env };
  delete env.TORSH_DEPOT_API_KEY;
  delete env.TORSH_DEPOT_REGISTRY;
  return runCliProcess([...args, '--registry', registry], key === null ? env : { ...env, TORSH_DEPOT_API_KEY: key });
}

function json<T>(result: CliResult): T {
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as T;
}

describe('torsh-depot users / roles / keys (scripted onboarding)', () => {
  it('onboards a user: create, grant a scoped role, issue a narrowed key, check it, revoke it', async () => {
    const user = json<{ id: string; name: string; active: boolean }>(await cli(['users', 'create', 'dana', '--email', 'dana@example.com', '--json']));
    expect(user).toMatchObject({ name: 'dana', active: true });
    const grant = await cli(['users', 'grant', user.id, '--role', 'ml-engineer', '--scope', 'vision/*']);
    expect(grant).toMatchObject({ code: 0, stderr: '' });
    expect(grant.stdout).toContain('granted ml-engineer on vision/* to');

    const created = await cli(['keys', 'create', '--user', user.id, '--expires-in', '30', '--permission', 'ViewMetadata,DownloadPackage', '--permission', 'UploadPackage']);
    expect(created.code).toBe(0);
    const [key, note] = created.stdout.trimEnd().split('\n');
    expect(key).toMatch(/^tdk_/);
    expect(note).toContain('not shown again');

    const whoami = await cli(['users', 'whoami'], key ?? '');
    expect(whoami).toMatchObject({ code: 0, stderr: '' });
    expect(whoami.stdout).toContain(`dana (${user.id})`);
    expect(whoami.stdout).toContain('grant: ml-engineer on vision/*');
    expect(whoami.stdout).toContain('narrowed to: ViewMetadata, DownloadPackage, UploadPackage');

    const keys = json<Array<{ id: string; prefix: string; last_used_at: string | null; expires_at: string | null }>>(await cli(['keys', 'list', '--user', user.id, '--json']));
    expect(keys).toHaveLength(1);
    expect(keys[0]?.prefix).toBe(key?.slice(0, 12));
    expect(keys[0]?.last_used_at).not.toBeNull();
    expect(keys[0]?.expires_at).not.toBeNull();
    expect((await cli(['keys', 'list'])).stdout).not.toContain(key ?? 'never');

    expect((await cli(['keys', 'revoke', keys[0]?.id ?? ''])).code).toBe(0);
    const refused = await cli(['users', 'whoami'], key ?? '');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^torsh-depot users: .*revoked/);

    expect((await cli(['users', 'deactivate', user.id])).stdout).toContain('dana is deactivated');
    expect(json<Array<{ name: string; active: boolean }>>(await cli(['users', 'list', '--json']))).toContainEqual(expect.objectContaining({ name: 'dana', active: false }));
  }, 180_000);

  it('manages custom roles; built-in ones are listed and protected', async () => {
    const created = await cli(['roles', 'create', 'auditor', '--permission', 'ViewStats', '--permission', 'ViewMetadata']);
    expect(created.stdout).toContain('created role auditor: ViewMetadata, ViewStats');
    const list = await cli(['roles', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^admin\s+built-in/m);
    expect(list.stdout).toMatch(/^auditor\s+custom\s+0 grant\(s\)\s+ViewMetadata, ViewStats$/m);
    expect((await cli(['roles', 'update', 'viewer', '--permission', 'ManageSecurity'])).code).toBe(1);
    expect((await cli(['roles', 'delete', 'auditor'])).stdout).toContain('deleted role auditor');
  }, 180_000);

  it('refuses bad usage (exit 2), a missing key (exit 1) and a key without ManageSecurity (exit 1)', async () => {
    expect((await cli(['users'])).code).toBe(2);
    expect((await cli(['users', 'frobnicate'])).code).toBe(2);
    expect((await cli(['users', 'create'])).code).toBe(2);
    expect((await cli(['roles', 'create', 'x', '--permission', 'FlyToMoon'])).code).toBe(2);
    expect((await cli(['keys', 'create'])).code).toBe(2);
    const anonymous = await cli(['users', 'list'], null);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/^torsh-depot users: /);

    const viewer = json<{ id: string }>(await cli(['users', 'create', 'vin', '--email', 'vin@example.com', '--json']));
    await cli(['users', 'grant', viewer.id, '--role', 'viewer']);
    const viewerKey = json<{ key: string }>(await cli(['keys', 'create', '--user', viewer.id, '--json'])).key;
    const forbidden = await cli(['users', 'list'], viewerKey);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('ManageSecurity');
  }, 180_000);

  it('documents every subcommand in --help', async () => {
    for (const command of ['users', 'roles', 'keys']) {
      const help = await runCliProcess([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: torsh-depot ${command}`);
    }
    expect((await runCliProcess(['--help'])).stdout).toMatch(/keys\s+Manages a registry's API keys/);
  }, 180_000);
});
