import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { cdnClientTransfersSchema, cdnPurgeRequestSchema, cdnUploadRequestSchema } from '../../shared/domain/cdn';
import type { Permission } from '../../shared/domain/access';
import { DepotError } from '../../shared/errors';
import type { AccessContext } from '../services/access/access-control';
import type { CdnService } from '../services/cdn/cdn-service';
import type { RegistryAuthorizer } from '../services/registry/registry-authorizer';
import { carriesSession, clientAddressOf, type ApiRouteHandler } from './http-host';
import { readJsonBody } from './json-body';
import { requireMethod, sendJson } from './http-json';
import { prefixedApiRoute } from './prefixed-api-route';

export interface CdnRouteOptions {
  cdn: CdnService;
  authorizer: RegistryAuthorizer;
}

/** The section as written (durations as text); validated whole by the service, which owns the schema. */
const configBodySchema = z.object({ cdn: z.record(z.string(), z.unknown()).nullable() }).strict();

/**
 * `/api/v1/cdn…`: configuration, edges, purges, origin uploads, best edge and statistics. Reading
 * needs ViewStats (best-url: DownloadPackage on the package), every change ManageInfrastructure;
 * the app's own UI (session cookie) reads as the local user.
 */
export function createCdnRoutes(options: CdnRouteOptions): ApiRouteHandler {
  const { cdn, authorizer } = options;
  const { access } = authorizer;
  const allow = (request: IncomingMessage, permission: Permission, packageName?: string): AccessContext => {
    const source = clientAddressOf(request);
    const authenticated = authorizer.authenticate(request.headers.authorization, source);
    const isRead = request.method === 'GET' || request.method === 'HEAD';
    const principal = authenticated.kind === 'anonymous' && isRead && carriesSession(request) ? access.localPrincipal() : authenticated;
    authorizer.authorize(principal, permission, packageName);
    return { principal, source };
  };

  return prefixedApiRoute('/api/v1/cdn', route);

  async function route(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? 'GET';
    const rest = url.pathname.slice('/api/v1/cdn'.length).split('/').filter((segment) => segment !== '');
    if (rest.length !== 1) throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
    switch (rest[0]) {
      case 'config': {
        requireMethod(method, ['GET', 'PUT']);
        if (method === 'GET') {
          allow(request, 'ViewStats');
          sendJson(response, 200, await cdn.configView());
          return;
        }
        const context = allow(request, 'ManageInfrastructure');
        const body = await readJsonBody(request, configBodySchema, 1024 * 1024);
        const saved = await cdn.replaceSection(body.cdn as never);
        access.record(context, 'cdn.config', null, { provider: saved?.provider ?? null, edges: saved?.edges.length ?? 0 });
        sendJson(response, 200, await cdn.configView());
        return;
      }
      case 'edges': {
        requireMethod(method, ['GET', 'POST']);
        if (method === 'GET') {
          allow(request, 'ViewStats');
          sendJson(response, 200, { edges: await cdn.edges() });
          return;
        }
        // POST: probe every edge now.
        allow(request, 'ManageInfrastructure');
        sendJson(response, 200, { edges: await cdn.checkEdges() });
        return;
      }
      case 'purge': {
        requireMethod(method, ['POST']);
        const context = allow(request, 'ManageInfrastructure');
        const body = await readJsonBody(request, cdnPurgeRequestSchema, 8 * 1024 * 1024);
        const report = await cdn.purge(body);
        const failed = report.results.filter((result) => !result.ok).length;
        access.record(context, 'cdn.purge', body.package ? `package:${body.package}${body.version ? `@${body.version}` : ''}` : null, {
          urls: body.urls.length,
          tags: body.tags.length,
          soft: body.soft,
          failed,
        });
        // 200 even with failures: the per-URL results say which; 502 only when nothing could be purged.
        sendJson(response, failed > 0 && failed === report.results.length ? 502 : 200, report);
        return;
      }
      case 'upload': {
        requireMethod(method, ['POST']);
        const context = allow(request, 'ManageInfrastructure');
        const body = await readJsonBody(request, cdnUploadRequestSchema);
        const { record } = await cdn.startUpload(body.name, body.version);
        access.record(context, 'cdn.upload', `package:${body.name}@${body.version}`, { job: record.id });
        sendJson(response, 202, record, { Location: `/api/v1/jobs/${record.id}` });
        return;
      }
      case 'best-url': {
        requireMethod(method, ['GET']);
        const name = url.searchParams.get('name');
        const version = url.searchParams.get('version');
        if (!name || !version) throw new DepotError('VALIDATION_FAILED', 'best-url needs ?name= and ?version=.');
        allow(request, 'DownloadPackage', name);
        const region = url.searchParams.get('region');
        // Without client_ip or region, the caller itself is the client.
        const clientIp = url.searchParams.get('client_ip') ?? (region ? null : clientAddressOf(request));
        sendJson(response, 200, await cdn.bestUrl({ name, version, clientIp, region }));
        return;
      }
      case 'transfers': {
        // A client's report of what it downloaded through edges: only a known caller allowed to download each package.
        requireMethod(method, ['POST']);
        const source = clientAddressOf(request);
        const principal = authorizer.authenticate(request.headers.authorization, source);
        if (principal.kind === 'anonymous') throw new DepotError('UNAUTHORIZED', 'Reporting CDN transfers needs an API key.');
        const body = await readJsonBody(request, cdnClientTransfersSchema, 64 * 1024);
        for (const name of new Set(body.transfers.map((transfer) => transfer.name))) authorizer.authorize(principal, 'DownloadPackage', name);
        sendJson(response, 200, { recorded: await cdn.recordClientTransfers(body.transfers) });
        return;
      }
      case 'stats': {
        requireMethod(method, ['GET']);
        allow(request, 'ViewStats');
        sendJson(response, 200, await cdn.stats(statsRange(url.searchParams)));
        return;
      }
      default:
        throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
    }
  }
}

function statsRange(params: URLSearchParams): { since?: Date; until?: Date; bucketSeconds?: number } {
  const date = (name: string): Date | undefined => {
    const text = params.get(name);
    if (text === null) return undefined;
    const value = new Date(text);
    if (Number.isNaN(value.getTime())) throw new DepotError('VALIDATION_FAILED', `${name} must be an ISO date-time, got "${text.slice(0, 64)}".`);
    return value;
  };
  const bucketText = params.get('bucket_seconds');
  const bucketSeconds = bucketText === null ? undefined : Number(bucketText);
  if (bucketSeconds !== undefined && (!Number.isInteger(bucketSeconds) || bucketSeconds < 60 || bucketSeconds > 604_800)) {
    throw new DepotError('VALIDATION_FAILED', 'bucket_seconds is a whole number from 60 to 604800.');
  }
  const since = date('since');
  const until = date('until');
  return { ...(since ? { since } : {}), ...(until ? { until } : {}), ...(bucketSeconds !== undefined ? { bucketSeconds } : {}) };
}

/** The CDN routes as every shell wires them (headless host, the desktop's embedded registry). */
export function createCoreCdnRoutes(core: { cdn: CdnService; authorizer: RegistryAuthorizer }): ApiRouteHandler {
  return createCdnRoutes({ cdn: core.cdn, authorizer: core.authorizer });
}
