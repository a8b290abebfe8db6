import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { runCliProcess, startServe, type ServingHost } from '../../support/cli-process';
import { parseServeArgs } from '../../../electron/cli/serve-command';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const temp = makeTempDir();
  cleanups.push(temp.cleanup);
  return temp.dir;
}

async function serve(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServingHost> {
  const host = await startServe(args, env);
  cleanups.push(() => host.stop());
  return host;
}

describe('torsh-depot CLI', () => {
  it('prints help and version, and exits 2 on bad usage with one line on stderr', async () => {
    const help = await runCliProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('serve');
    expect((await runCliProcess(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const unknown = await runCliProcess(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^torsh-depot: unknown command "frobnicate"/);
    expect((await runCliProcess(['serve', '--port', 'seventy'])).code).toBe(2);
    expect((await runCliProcess(['serve', '--bogus'])).code).toBe(2);
    expect((await runCliProcess(['serve', '--port', '70000'])).code).toBe(2);
  });

  it('parses serve options with the environment fallback for the data folder', () => {
    expect(parseServeArgs([], { TORSH_DEPOT_DATA_DIR: '/srv/depot' })).toEqual({ host: '127.0.0.1', port: 7878, dataDir: '/srv/depot', maxPackageBytes: null, defaultVisibility: null, trustedProxies: [], idleTimeoutMs: 120_000 });
    expect(parseServeArgs(['--data-dir', 'rel', '--port', '0'], { TORSH_DEPOT_DATA_DIR: '/srv/depot' })).toEqual({ host: '127.0.0.1', port: 0, dataDir: path.resolve('rel'), maxPackageBytes: null, defaultVisibility: null, trustedProxies: [], idleTimeoutMs: 120_000 });
    expect(parseServeArgs(['--default-visibility', 'public'], { TORSH_DEPOT_DATA_DIR: '/srv/depot' }).defaultVisibility).toBe('public');
    expect(() => parseServeArgs(['--default-visibility', 'secret'], {})).toThrow(/public, internal or private/);
  });

  it('serves on loopback from TORSH_DEPOT_DATA_DIR and shuts down cleanly on SIGTERM', async () => {
    const dataDir = tempDir();
    const host = await serve(['--port', '0'], { ...process.env, TORSH_DEPOT_DATA_DIR: dataDir });
    const url = new URL(host.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.searchParams.get('token')).toMatch(/^[\w-]{20,}$/);
    expect(existsSync(path.join(dataDir, 'torsh-depot.sqlite'))).toBe(true);

    const socket = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`);
    const reply = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'request', id: 1, channel: 'app.health', input: {} })));
      socket.on('message', (data) => resolve(data.toString()));
      socket.on('error', reject);
    });
    expect(JSON.parse(reply)).toMatchObject({ ok: true, result: { dataDir } });
    socket.close();

    expect(await host.stop()).toBe(0);
    expect(host.output().stderr).toContain('stopped');
  });

  it('fails with one clear line when the port is taken', async () => {
    const first = await serve(['--port', '0', '--data-dir', tempDir()]);
    const port = new URL(first.url).port;
    const second = await runCliProcess(['serve', '--port', port, '--data-dir', tempDir()]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`port ${port} is already in use`);
  });
});

describe('default data folder', () => {
  it('is the desktop app folder on every platform', async () => {
    const { defaultDataDir } = await import('../../../electron/cli/default-data-dir');
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe(path.join('/cfg', 'Torsh Depot', 'data'));
    expect(defaultDataDir({ APPDATA: 'C:/Users/a/AppData/Roaming' }, 'win32')).toBe(path.join('C:/Users/a/AppData/Roaming', 'Torsh Depot', 'data'));
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/Torsh Depot\/data$/);
  });
});
