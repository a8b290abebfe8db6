import path from 'node:path';
import { purgeTargetSchema, type BestUrlAnswer, type CdnSection, type PurgeReport } from '../../../shared/domain/cdn';
import { DepotError } from '../../../shared/errors';
import { ConfigFileError, loadDepotConfig } from '../../services/config/depot-config-file';
import { uploadToOrigin } from '../../services/cdn/cdn-origin';
import { createCdnProvider } from '../../services/cdn/cdn-provider-factory';
import { packagePurgeTarget, runPurge } from '../../services/cdn/cdn-purger';
import { ClientRegionResolver } from '../../services/cdn/client-region';
import { rankEdges } from '../../services/cdn/edge-selector';
import { registryPackageSource } from '../../services/cdn/registry-package-source';
import { openGeoIpDatabase } from '../../services/cdn/geoip-database';
import { edgeObjectPath } from '../../services/cdn/route-decision';
import { edgeVcl } from '../../services/cdn/varnish-vcl';
import { RegistryClient } from '../../services/registry-client/registry-client';
import { resolveSecretReference } from '../../services/secrets/secret-reference';
import { parseBlobStoreUrl } from '../../services/storage/blob-store-url';
import { createStorageBackend } from '../../services/storage/storage-factory';
import { exitCodes, UsageError, type CliIo } from '../cli-io';
import { formatBytes, parseCommandArgs, registryClientFrom, registryOptions, registryOptionsHelp, stopController } from './command-options';
import { parsePackageSpec } from './pull-command';

export const cdnUsage = `Usage: torsh-depot cdn <upload|purge|best-url|vcl> [options]

Puts packages on the CDN origin, purges edges, and picks the best edge for a client.
  cdn upload <name>@<version> --config FILE --registry URL [--api-key KEY]
      copy the version (blob, signature, index) to cdn.origin.storage with its Cache-Control;
      private and internal versions are refused on a public origin without cdn.signed_urls
  cdn purge [<name>[@<version>]] [--url URL]... [--tag TAG]... [--soft] --config FILE [--endpoint URL]
      purge a package (its surrogate key), URLs or tags through cdn.provider; per-URL results
  cdn best-url <name>@<version> (--client-ip IP | --region R) --config FILE
      the edge chosen for that client, with the parts of every edge's score
  cdn vcl --edge-id ID --origin HOST:PORT [--origin-path-prefix /bucket]
      print the Varnish VCL of a self-hosted edge (vmod xkey)
Options:
  --config FILE      depot.yaml (its cdn: section)
  --endpoint URL     send provider API calls here instead (a proxy, or a test server)
  --json             print the result as JSON
${registryOptionsHelp}`;

const subcommands = ['upload', 'purge', 'best-url', 'vcl'] as const;

export async function cdnCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (!(subcommands as readonly string[]).includes(sub ?? '')) throw new UsageError(`expected one of ${subcommands.join(', ')}`);
  switch (sub as (typeof subcommands)[number]) {
    case 'upload':
      return upload(rest, io);
    case 'purge':
      return purge(rest, io);
    case 'best-url':
      return bestUrl(rest, io);
    case 'vcl':
      return vcl(rest, io);
  }
}

/** The `cdn:` section of depot.yaml, read and checked by the one config loader. */
async function loadSection(file: string | undefined): Promise<{ section: CdnSection; baseDir: string }> {
  if (file === undefined) throw new UsageError('--config FILE is required');
  try {
    const loaded = await loadDepotConfig(file);
    if (!loaded.config.cdn) throw new UsageError(`${loaded.file} has no cdn: section`);
    return { section: loaded.config.cdn, baseDir: loaded.baseDir };
  } catch (error) {
    if (error instanceof ConfigFileError) throw new UsageError(error.message);
    throw error;
  }
}

async function upload(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...registryOptions, config: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, max: 1, names: 'the package (name@version)' });
  const { name, range: version } = parsePackageSpec(positionals[0] ?? '');
  if (!/^\d+\.\d+\.\d+/.test(version)) throw new UsageError('cdn upload takes an exact version (name@1.2.3)');
  const { section } = await loadSection(values.config);
  if (section.origin.storage === 'registry') throw new UsageError('cdn.origin.storage is "registry": serve is the origin, there is nothing to upload');
  const client = registryClientFrom(values, io.env);
  const anonymous = new RegistryClient({ baseUrl: client.baseUrl, apiKey: null });
  const origin = createStorageBackend(parseBlobStoreUrl(section.origin.storage, io.env));
  const controller = stopController(io);
  const result = await uploadToOrigin(registryPackageSource(client, anonymous), origin, section, name, version, { signal: controller.signal });
  if (values.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return exitCodes.ok;
  }
  io.stdout.write(`uploaded ${name}@${version} (${result.visibility}) to ${origin.description}\n`);
  for (const object of result.objects) io.stdout.write(`  ${object.key}  ${formatBytes(object.size)}  Cache-Control: ${object.cacheControl}\n`);
  return exitCodes.ok;
}

async function purge(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { config: { type: 'string' }, url: { type: 'string', multiple: true }, tag: { type: 'string', multiple: true }, soft: { type: 'boolean' }, endpoint: { type: 'string' }, json: { type: 'boolean' } },
    { min: 0, max: 1, names: 'the package' },
  );
  const { section, baseDir } = await loadSection(values.config);
  const soft = values.soft ?? false;
  let target = { urls: values.url ?? [], tags: values.tag ?? [], soft };
  if (positionals[0] !== undefined) {
    const at = positionals[0].lastIndexOf('@');
    const name = at > 0 ? positionals[0].slice(0, at) : positionals[0];
    const version = at > 0 ? positionals[0].slice(at + 1) : undefined;
    parsePackageSpec(positionals[0]);
    const forPackage = packagePurgeTarget(section, name, version, soft);
    target = { urls: [...target.urls, ...forPackage.urls], tags: [...target.tags, ...forPackage.tags], soft };
  }
  if (target.urls.length === 0 && target.tags.length === 0) throw new UsageError('name a package, --url URL or --tag TAG');
  const checked = purgeTargetSchema.safeParse(target);
  if (!checked.success) throw new UsageError(checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const provider = await createCdnProvider(section, (reference) => resolveSecretReference(reference, { env: io.env, baseDir }), values.endpoint ? { endpoint: values.endpoint } : {});
  const controller = stopController(io);
  const report = await runPurge(provider, checked.data, { retry: section.retry, signal: controller.signal });
  io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatPurge(report));
  return report.results.every((result) => result.ok) ? exitCodes.ok : exitCodes.failure;
}

function formatPurge(report: PurgeReport): string {
  const lines = report.results.map((result) => `${result.ok ? 'ok    ' : 'FAILED'} ${result.kind} ${result.target} via ${result.via}${result.id ? ` (${result.id})` : ''}${result.error ? `: ${result.error}` : ''}`);
  const failed = report.results.filter((result) => !result.ok).length;
  lines.push(`${report.results.length - failed} purged, ${failed} failed; ${report.apiCalls} API calls (${report.retries} retries) in ${Math.round(report.durationMs)} ms via ${report.provider}`);
  return `${lines.join('\n')}\n`;
}

async function bestUrl(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { config: { type: 'string' }, 'client-ip': { type: 'string' }, region: { type: 'string' }, json: { type: 'boolean' } },
    { min: 1, max: 1, names: 'the package (name@version)' },
  );
  const { name, range: version } = parsePackageSpec(positionals[0] ?? '');
  if (values['client-ip'] === undefined && values.region === undefined) throw new UsageError('give --client-ip IP or --region R');
  const { section, baseDir } = await loadSection(values.config);
  const geoIp = section.geo.maxmind_db ? await openGeoIpDatabase(path.resolve(baseDir, section.geo.maxmind_db)) : null;
  const client = new ClientRegionResolver(section.geo.cidr_regions, geoIp).resolve({ region: values.region ?? null, clientIp: values['client-ip'] ?? null });
  const ranking = rankEdges(
    section.edges.map((config) => ({ config })),
    client.region,
  );
  const best = ranking.find((entry) => entry.eligible) ?? null;
  const answer: BestUrlAnswer = {
    name,
    version,
    clientRegion: client.region,
    regionSource: client.source,
    url: best ? `${best.url.replace(/\/+$/, '')}${edgeObjectPath(section, name, version)}` : null,
    edgeId: best?.edgeId ?? null,
    ranking,
  };
  if (values.json) {
    io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return best ? exitCodes.ok : exitCodes.failure;
  }
  io.stdout.write(`client region: ${answer.clientRegion ?? 'unknown'} (from ${answer.regionSource})\n`);
  io.stdout.write(best ? `best: ${answer.url} (edge ${best.edgeId})\n` : 'no eligible edge\n');
  for (const entry of ranking) {
    const parts = `distance ${entry.parts.distance ?? '-'} + latency ${entry.parts.latency ?? '-'} + load ${entry.parts.load} + bandwidth ${entry.parts.bandwidth}`;
    io.stdout.write(`  ${entry.edgeId.padEnd(16)} ${entry.region.padEnd(16)} ${entry.eligible ? `score ${entry.score} = ${parts}` : 'not eligible'} (${entry.reason})\n`);
  }
  return best ? exitCodes.ok : exitCodes.failure;
}

async function vcl(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { 'edge-id': { type: 'string' }, origin: { type: 'string' }, 'origin-path-prefix': { type: 'string' } }, { min: 0, max: 0, names: '' });
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(values.origin ?? '');
  if (!values['edge-id'] || !match) throw new UsageError('give --edge-id ID and --origin HOST:PORT');
  try {
    io.stdout.write(edgeVcl({ edgeId: values['edge-id'], originHost: match[1]!, originPort: Number(match[2]), ...(values['origin-path-prefix'] ? { originPathPrefix: values['origin-path-prefix'] } : {}) }));
  } catch (error) {
    if (error instanceof DepotError) throw new UsageError(error.message);
    throw error;
  }
  return exitCodes.ok;
}
