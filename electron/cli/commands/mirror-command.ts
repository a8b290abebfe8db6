import { mirrorConfigSchema, type MirrorsStats, type MirrorSyncResult, type MirrorView } from '../../../shared/domain/mirrors';
import { DepotError } from '../../../shared/errors';
import { HttpRegistrySource } from '../../services/mirrors/mirror-source';
import { syncMirror } from '../../services/mirrors/mirror-sync';
import { parseBlobStoreUrl } from '../../services/storage/blob-store-url';
import { createStorageBackend } from '../../services/storage/storage-factory';
import { formatKeyId } from '../../services/signing/ed25519-keys';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, positiveIntOption, progressLine, stopController } from './command-options';
import { loadSecretKey } from './sign-command';
import os from 'node:os';
import path from 'node:path';

export const mirrorUsage = `Usage: torsh-depot mirror list|add|remove|check|sync|stats [options] --registry URL [--json]

Manages the mirrors of a Torsh Depot host, and writes mirrors with sync.
  mirror list                               the mirror set with health and traffic
  mirror add ID URL [--region R] [--priority N] [--weight N] [--capacity N] [--sync-to STORAGE_URL] [--disabled]
  mirror remove ID
  mirror check [ID]                         check one mirror (or all) now: signed index, latency, staleness
  mirror stats                              totals and per-mirror status, latency, staleness, downloads, failovers
  mirror sync --to STORAGE_URL --key FILE [--prune]
                                            copy the registry's packages into a mirror layout at STORAGE_URL
                                            (file:///srv/mirror, s3://bucket/prefix?endpoint=…, azure://…, gs://…),
                                            incrementally; index.json last, signed with the minisign key FILE
  mirror sync [--prune] [ID…]               without --to: ask the host to sync its mirrors (their sync_to)

  --registry URL     the host (default: $TORSH_DEPOT_REGISTRY)
  --api-key KEY      API key (default: $TORSH_DEPOT_API_KEY); viewing needs ViewStats, changes ManageMirrors
  --passphrase-file FILE   the --key's passphrase (default: $TORSH_DEPOT_KEY_PASSPHRASE)
  --json             machine-readable output (sync prints one JSON progress event per line)

Credentials for STORAGE_URL come from the environment (AWS_ACCESS_KEY_ID…, AZURE_STORAGE_KEY, GCS_HMAC_…).`;

const options = {
  registry: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  region: { type: 'string' },
  priority: { type: 'string' },
  weight: { type: 'string' },
  capacity: { type: 'string' },
  'sync-to': { type: 'string' },
  disabled: { type: 'boolean' },
  to: { type: 'string' },
  key: { type: 'string' },
  'passphrase-file': { type: 'string' },
  prune: { type: 'boolean' },
} as const;

export async function mirrorCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommandArgs(rest, options, { min: 0, max: 200, names: 'arguments' });
  const json = values.json === true;
  const print = (value: unknown, text: string): void => void io.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  const registry = values.registry ?? io.env.TORSH_DEPOT_REGISTRY;
  const apiKey = values['api-key'] ?? io.env.TORSH_DEPOT_API_KEY ?? null;
  const host = (): HostApi => {
    if (!registry) throw new UsageError('--registry URL is required (or set TORSH_DEPOT_REGISTRY)');
    return new HostApi(registry, apiKey === '' ? null : apiKey);
  };
  const expectArgs = (min: number, max: number, names: string): void => {
    if (positionals.length < min) throw new UsageError(`missing ${names}`);
    if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max] ?? ''}"`);
  };
  switch (sub) {
    case 'list': {
      expectArgs(0, 0, '');
      const { mirrors } = (await host().call('GET', 'mirrors')) as { mirrors: MirrorView[] };
      print(mirrors, mirrors.length === 0 ? 'no mirrors' : mirrors.map(describeMirror).join('\n'));
      return exitCodes.ok;
    }
    case 'add': {
      expectArgs(2, 2, 'ID and URL');
      const body = {
        id: positionals[0],
        url: positionals[1],
        ...(values.region !== undefined ? { region: values.region } : {}),
        ...(values.priority !== undefined ? { priority: intOption(values.priority, '--priority', 0) } : {}),
        ...(values.weight !== undefined ? { weight: intOption(values.weight, '--weight', 0) } : {}),
        ...(values.capacity !== undefined ? { capacity: positiveIntOption(values.capacity, '--capacity', 16) } : {}),
        ...(values['sync-to'] !== undefined ? { sync_to: values['sync-to'] } : {}),
        ...(values.disabled === true ? { enabled: false } : {}),
      };
      const checked = mirrorConfigSchema.safeParse(body);
      if (!checked.success) throw new UsageError(checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
      const view = (await host().call('POST', 'mirrors', body)) as MirrorView;
      print(view, `added ${describeMirror(view)}`);
      return exitCodes.ok;
    }
    case 'remove': {
      expectArgs(1, 1, 'ID');
      await host().call('DELETE', `mirrors/${encodeURIComponent(positionals[0]!)}`);
      print({ removed: positionals[0] }, `removed ${positionals[0]}`);
      return exitCodes.ok;
    }
    case 'check': {
      expectArgs(0, 1, 'ID');
      const api = host();
      let views: MirrorView[];
      if (positionals[0] !== undefined) views = [(await api.call('POST', `mirrors/${encodeURIComponent(positionals[0])}/check`)) as MirrorView];
      else {
        const { mirrors } = (await api.call('GET', 'mirrors')) as { mirrors: MirrorView[] };
        views = await Promise.all(mirrors.filter((view) => view.config.enabled).map(async (view) => (await api.call('POST', `mirrors/${view.config.id}/check`)) as MirrorView));
      }
      print(views, views.map(describeMirror).join('\n'));
      return views.every((view) => view.health.status !== 'unhealthy') ? exitCodes.ok : exitCodes.failure;
    }
    case 'stats': {
      expectArgs(0, 0, '');
      const stats = (await host().call('GET', 'mirrors/stats')) as MirrorsStats;
      const lines = [`${stats.healthy}/${stats.total} healthy, registry serial ${stats.registrySerial}`];
      for (const mirror of stats.mirrors) {
        lines.push(
          `${mirror.id.padEnd(20)} ${mirror.status.padEnd(9)} ${mirror.latencyMs === null ? '-' : `${Math.round(mirror.latencyMs)} ms`}  behind ${mirror.stalenessVersions ?? '-'}  ` +
            `downloads ${mirror.downloads}  ${formatBytes(mirror.bytes)}  failures ${mirror.failures}  failovers ${mirror.failovers}`,
        );
      }
      print(stats, lines.join('\n'));
      return exitCodes.ok;
    }
    case 'sync': {
      if (values.to === undefined) {
        const job = (await host().call('POST', 'mirrors/sync', { prune: values.prune === true, ...(positionals.length > 0 ? { ids: positionals } : {}) })) as { id: string; title: string };
        print(job, `started job ${job.id}: ${job.title}`);
        return exitCodes.ok;
      }
      expectArgs(0, 0, '');
      if (!registry) throw new UsageError('--registry URL is required (or set TORSH_DEPOT_REGISTRY)');
      if (values.key === undefined) throw new UsageError('--key FILE is required: index.json is signed (torsh-depot keygen makes a key)');
      let location;
      try {
        location = parseBlobStoreUrl(values.to, io.env);
      } catch (error) {
        throw new UsageError(`--to: ${(error as Error).message}`);
      }
      const signer = await loadSecretKey(values.key, values['passphrase-file'], io.env);
      const target = createStorageBackend(location);
      const controller = stopController(io);
      const line = progressLine(io, 'sync');
      let lastPlain = 0;
      const result: MirrorSyncResult = await syncMirror({
        source: new HttpRegistrySource(registry, apiKey === '' ? null : apiKey),
        target,
        signer,
        prune: values.prune === true,
        tmpDir: path.join(os.tmpdir(), 'torsh-depot-mirror-sync'),
        signal: controller.signal,
        onProgress: (done, total, message) => {
          if (json) io.stdout.write(`${JSON.stringify({ event: 'progress', done, total, message })}\n`);
          else {
            line.update(done, total);
            const now = Date.now();
            if ((io.stderr as { isTTY?: boolean }).isTTY !== true && (now - lastPlain > 1_000 || done === total)) {
              lastPlain = now;
              io.stderr.write(`sync: ${formatBytes(done)} / ${formatBytes(total)} ${message}\n`);
            }
          }
        },
      }).finally(() => line.finish());
      print(
        { event: 'done', ...result, key_id: formatKeyId(signer.keyId) },
        `synced ${result.target}: serial ${result.serial}, ${result.versions} version(s), ${result.copied} copied (${formatBytes(result.copiedBytes)}), ${result.skipped} already there${values.prune === true ? `, ${result.pruned} pruned` : ''}; index signed by ${formatKeyId(signer.keyId)}`,
      );
      return exitCodes.ok;
    }
    default:
      throw new UsageError(sub === undefined ? 'missing subcommand (list, add, remove, check, sync, stats)' : `unknown subcommand "${sub}"`);
  }
}

function intOption(value: string, flag: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${flag} must be a whole number of at least ${min}, got "${value}"`);
  return Number(value);
}

function describeMirror(view: MirrorView): string {
  const health = view.health;
  const latency = health.latencyMs === null ? '-' : `${Math.round(health.latencyMs)} ms`;
  return `${view.config.id.padEnd(20)} ${health.status.padEnd(9)} ${view.config.url}  region ${view.config.region ?? '-'}  priority ${view.config.priority}  weight ${view.config.weight}  latency ${latency}  behind ${health.stalenessVersions ?? '-'}${view.config.enabled ? '' : '  (disabled)'}`;
}

/** The host's `/api/v1/` over fetch, errors as DepotErrors with the host's message. */
class HostApi {
  private readonly base: URL;

  constructor(
    url: string,
    private readonly apiKey: string | null,
  ) {
    try {
      this.base = new URL('api/v1/', url.endsWith('/') ? url : `${url}/`);
    } catch {
      throw new UsageError(`--registry: "${url}" is not a URL`);
    }
  }

  async call(method: string, route: string, body?: unknown): Promise<unknown> {
    const response = await fetch(new URL(route, this.base), {
      method,
      headers: { ...(this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(120_000),
    }).catch((error: unknown) => {
      throw new DepotError('UNAVAILABLE', `${this.base.origin} could not be reached: ${(error as Error).message}`);
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {
        // plain text
      }
      throw new DepotError(response.status === 401 ? 'UNAUTHORIZED' : response.status === 403 ? 'FORBIDDEN' : response.status === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED', `${method} ${route}: ${response.status} ${message}`);
    }
    return text === '' ? null : (JSON.parse(text) as unknown);
  }
}
