import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCore, type Core } from '../services/composition-root';
import { createConsoleLogger } from '../services/logger';
import { defaultIdleTimeoutMs, startHttpHost, type RunningHost } from '../host/http-host';
import { TrustedProxies } from '../host/client-address';
import { formatDuration, parseDurationMs } from '../../shared/domain/config-values';
import { createRegistryRoutes } from '../host/registry-routes';
import { createStagingRoutes } from '../host/staging-routes';
import { createExportRoutes } from '../host/export-routes';
import { createMetricsRoute } from '../host/metrics-route';
import { createStorageRoutes } from '../host/storage-routes';
import { defaultBlobGcGraceSeconds } from '../../shared/domain/storage';
import { createCoreMirrorsRoutes } from '../host/mirrors-routes';
import { createCoreCdnRoutes } from '../host/cdn-routes';
import { createCoreBackupRoutes } from '../host/backup-routes';
import { ConfigFileError, loadDepotConfig, type LoadedDepotConfig } from '../services/config/depot-config-file';
import { applyDepotConfig } from '../services/config/apply-depot-config';
import { exitCodes, UsageError, type CliIo } from './cli-io';
import { defaultDataDir } from './default-data-dir';
import { visibilitySchema, type Visibility } from '../../shared/domain/access';
import { parseBlobStoreUrl } from '../services/storage/blob-store-url';
import type { StorageLocation } from '../services/storage/storage-factory';
import { createReplicationRoutes } from '../host/replication-routes';

export const serveUsage = `Usage: torsh-depot serve [--host 127.0.0.1] [--port 7878] [--data-dir DIR]

Runs the Torsh Depot core headless and serves its UI and contract.
  --host       address to bind (default 127.0.0.1; anything else exposes the host to the network)
  --port       TCP port, 0 for any free port (default 7878)
  --data-dir   data folder (default: $TORSH_DEPOT_DATA_DIR, else the platform's app-data folder)
  --max-package-size BYTES   largest package the registry accepts (default: the setting, 64 GiB)
  --trusted-key FILE         add a publisher's minisign public key to the trust store (repeatable);
                             signatures by trusted keys show as trusted in version metadata
  --default-visibility public|internal|private   visibility of newly published packages (kept; default internal)

  --blob-store URL   where package blobs live (default: the data folder), under <prefix>/blobs/sha256/<hex>:
                     file:///path
                     s3://bucket/prefix?endpoint=http://127.0.0.1:4568&path_style=true&region=us-east-1
                     azure://account/container/prefix[?endpoint=URL]
                     gs://bucket/prefix
  --presigned-downloads   answer downloads with a redirect to a short-lived presigned URL of the blob store
  --trusted-proxy CIDR    a reverse proxy whose X-Forwarded-For names the real client (repeatable; e.g.
                          127.0.0.1/32 or 10.0.0.0/8). Without it X-Forwarded-For is ignored
  --config FILE           depot.yaml (or JSON), checked whole before anything starts (see \`torsh-depot config\`):
                          its mirrors: section replaces the mirror set; its replication: section (nodes,
                          replication_factor, rules, consistency) makes this registry copy each version to its nodes
                          its cdn: section (provider, origin, edges, routing) runs /api/v1/cdn and download?route=auto
  --idle-timeout DURATION close a connection after this long without a byte either way (default ${formatDuration(defaultIdleTimeoutMs)};
                          e.g. 30s, 5m). Uploads and downloads have no overall time limit while bytes flow


Environment:
  TORSH_DEPOT_ADMIN_KEY   the API key of the \`admin\` user (created or kept; at least 16 characters)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]   s3:// credentials
  AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN                     azure:// credentials
  GCS_HMAC_ACCESS_KEY, GCS_HMAC_SECRET                             gs:// credentials (HMAC keys)`;

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  maxPackageBytes: number | null;
  /** Minisign public key files to trust at start-up. */
  trustedKeyFiles?: string[];
  defaultVisibility: Visibility | null;
  /** Present only with --blob-store. */
  blobStore?: StorageLocation;
  /** `--config FILE`, absolute. */
  configFile?: string;
  /** Present only with --presigned-downloads. */
  presignedDownloads?: true;
  /** --trusted-proxy, normalized (`10.0.0.0/8`); empty: X-Forwarded-For is ignored. */
  trustedProxies: string[];
  idleTimeoutMs: number;
}

export function parseServeArgs(args: string[], env: NodeJS.ProcessEnv): ServeOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'max-package-size': { type: 'string' },
        'trusted-key': { type: 'string', multiple: true },
        'default-visibility': { type: 'string' },
        'blob-store': { type: 'string' },
        config: { type: 'string' },
        'presigned-downloads': { type: 'boolean' },
        'trusted-proxy': { type: 'string', multiple: true },
        'idle-timeout': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const portText = values.port ?? '7878';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) throw new UsageError(`--port must be a number from 0 to 65535, got "${portText}"`);
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host must not be empty');
  const dataDir = values['data-dir'] ?? env.TORSH_DEPOT_DATA_DIR ?? defaultDataDir(env);
  const maxText = values['max-package-size'];
  if (maxText !== undefined && (!/^\d+$/.test(maxText) || Number(maxText) < 1)) throw new UsageError(`--max-package-size must be a positive number of bytes, got "${maxText}"`);
  const trustedKeyFiles = (values['trusted-key'] ?? []).map((file) => path.resolve(file));
  const visibilityText = values['default-visibility'];
  const visibility = visibilityText === undefined ? undefined : visibilitySchema.safeParse(visibilityText);
  if (visibility && !visibility.success) throw new UsageError(`--default-visibility must be public, internal or private, got "${visibilityText}"`);
  let blobStore: StorageLocation | undefined;
  if (values['blob-store'] !== undefined) {
    try {
      blobStore = parseBlobStoreUrl(values['blob-store'], env);
    } catch (error) {
      throw new UsageError(`--blob-store: ${(error as Error).message}`);
    }
  }
  let trustedProxies: TrustedProxies;
  try {
    trustedProxies = new TrustedProxies(values['trusted-proxy'] ?? []);
  } catch (error) {
    throw new UsageError(`--trusted-proxy: ${(error as Error).message}`);
  }
  const idleText = values['idle-timeout'];
  const idleTimeoutMs = idleText === undefined ? defaultIdleTimeoutMs : parseDurationMs(idleText);
  if (idleTimeoutMs === null || idleTimeoutMs < 100) throw new UsageError(`--idle-timeout must be a duration of at least 100ms (e.g. 30s, 5m), got "${idleText ?? ''}"`);
  return {
    host,
    port: Number(portText),
    trustedProxies: [...trustedProxies.cidrs],
    idleTimeoutMs,
    dataDir: path.resolve(dataDir),
    maxPackageBytes: maxText === undefined ? null : Number(maxText),
    defaultVisibility: visibility?.data ?? null,
    ...(trustedKeyFiles.length > 0 ? { trustedKeyFiles } : {}),
    ...(blobStore ? { blobStore } : {}),
    ...(values.config !== undefined ? { configFile: path.resolve(values.config) } : {}),
    ...(values['presigned-downloads'] === true ? { presignedDownloads: true as const } : {}),
  };
}

/** The built UI sits next to the bundled CLI (dist/renderer beside dist/cli.cjs). */
function locateRenderer(): string | null {
  const candidates = [path.join(__dirname, 'renderer'), path.join(__dirname, '..', '..', 'dist', 'renderer')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? null;
}

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const options = parseServeArgs(args, io.env);
  const logger = createConsoleLogger('torsh-depot', io.stderr);
  let depotConfig: LoadedDepotConfig | null = null;
  if (options.configFile !== undefined) {
    try {
      // Checked whole (secrets included) before the data folder is touched: a bad file changes nothing.
      depotConfig = await loadDepotConfig(options.configFile, { resolveSecrets: true, env: io.env });
    } catch (error) {
      if (!(error instanceof ConfigFileError)) throw error;
      for (const issue of error.issues) io.stderr.write(`torsh-depot: --config ${error.file}: ${issue.path || '(top level)'}: ${issue.message}\n`);
      return exitCodes.failure;
    }
  }
  let core: Core;
  try {
    core = createCore({
      dataDir: options.dataDir,
      shell: 'headless',
      logger,
      ...(options.blobStore ? { blobStoreLocation: options.blobStore } : {}),
    });
  } catch (error) {
    io.stderr.write(`torsh-depot: cannot open data folder ${options.dataDir}: ${(error as Error).message}\n`);
    return exitCodes.failure;
  }
  try {
    // A remote blob store that does not answer (or refuses the credentials) must stop start-up, not the first publish.
    await core.blobs.check();
  } catch (error) {
    await core.close();
    io.stderr.write(`torsh-depot: blob store ${core.blobs.description} is not usable: ${(error as Error).message.replace(/\s+/g, " ")}\n`);
    return exitCodes.failure;
  }
  const adminKey = io.env.TORSH_DEPOT_ADMIN_KEY;
  if (adminKey !== undefined && adminKey !== '') {
    try {
      core.access.ensureAdminKey(adminKey);
    } catch (error) {
      await core.close();
      io.stderr.write(`torsh-depot: TORSH_DEPOT_ADMIN_KEY: ${(error as Error).message}\n`);
      return exitCodes.failure;
    }
  }
  for (const file of options.trustedKeyFiles ?? []) {
    try {
      const key = core.trust.trust(readFileSync(file, 'utf8'), path.basename(file).replace(/\.pub$/, ''));
      logger.info(`trusting key ${key.keyId} (${key.label})`);
    } catch (error) {
      await core.close();
      io.stderr.write(`torsh-depot: --trusted-key ${file}: ${(error as Error).message}\n`);
      return exitCodes.failure;
    }
  }
  if (options.defaultVisibility) core.access.configureDefaultVisibility(options.defaultVisibility);
  if (depotConfig) {
    try {
      const applied = await applyDepotConfig(core, depotConfig.config, depotConfig.baseDir);
      if (applied.applied.length > 0) logger.info(`config ${depotConfig.file}: ${applied.applied.join(', ')} applied`);
      if (applied.notApplied.length > 0) logger.warn(`config ${depotConfig.file}: ${applied.notApplied.join(', ')} validated, but no service of this build takes it yet`);
    } catch (error) {
      await core.close();
      io.stderr.write(`torsh-depot: --config ${depotConfig.file}: ${(error as Error).message}\n`);
      return exitCodes.failure;
    }
  }
  const staticDir = locateRenderer();
  const registryRoutes = createRegistryRoutes({
    registry: core.registry,
    authorizer: core.authorizer,
    tmpDir: core.tmpDir,
    maxPackageBytes: () => options.maxPackageBytes ?? core.settings.get().registry.maxPackageBytes,
    logger,
    metrics: core.metrics.collector,
    presignedDownloads: () => options.presignedDownloads === true || core.settings.get().storage.presignedDownloads,
    route: (request) => core.cdn.route(request),
  });
  const metricsRoute = createMetricsRoute({ metrics: core.metrics.collector, authorizer: core.authorizer, requireKey: () => core.settings.get().metrics.requireKeyForEndpoint });
  let host: RunningHost;
  try {
    host = await startHttpHost({
      core,
      host: options.host,
      port: options.port,
      staticDir,
      apiRoutes: [createReplicationRoutes({ replication: core.replication, authorizer: core.authorizer }), createStorageRoutes(core), createCoreMirrorsRoutes(core), createCoreCdnRoutes(core), registryRoutes, metricsRoute, createCoreBackupRoutes(core)],
      sessionRoutes: [createStagingRoutes(core), createExportRoutes(core)],
      trustedProxies: new TrustedProxies(options.trustedProxies),
      idleTimeoutMs: options.idleTimeoutMs,
    });
  } catch (error) {
    await core.close();
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? `port ${options.port} is already in use` : (error as Error).message;
    io.stderr.write(`torsh-depot: cannot listen on ${options.host}:${options.port}: ${reason}\n`);
    return exitCodes.failure;
  }
  if (!staticDir) logger.warn('no built UI found (run `npm run build`); serving the contract only');
  if (options.host !== '127.0.0.1' && options.host !== 'localhost' && options.host !== '::1') {
    logger.warn(`bound to ${options.host}: the host is reachable from other machines`);
  }
  logger.info(`data folder ${core.dataDir}`);
  logger.info(`blob store ${core.blobs.description}`);
  if (options.trustedProxies.length > 0) logger.info(`trusting X-Forwarded-For from ${options.trustedProxies.join(', ')}`);
  core.registryEndpoint.set(host.url.replace(/\/$/, ''));
  // What a crash or a lost publish race left behind, older than the grace period.
  core.startBlobGc({ dry_run: false, grace_seconds: defaultBlobGcGraceSeconds }).done.catch((error: unknown) => logger.warn(`garbage collection failed: ${(error as Error).message}`));
  core.mirrors.startHealthChecks();
  core.cdn.startHealthChecks();
  core.startSchedules();
  io.stdout.write(`listening on ${host.url}?token=${host.token}\n`);

  const signal = await io.stopSignal;
  logger.info(`${signal} received, shutting down`);
  await host.close();
  await core.close();
  logger.info('stopped');
  return exitCodes.ok;
}
