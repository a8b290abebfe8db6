import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { DepotError } from '../../shared/errors';
import { mirrorConfigSchema, mirrorIdSchema, mirrorsSettingsSchema, writeMirrorsSettings } from '../../shared/domain/mirrors';
import { mirrorChangesSchema } from '../../shared/contract/mirrors-channels';
import type { Permission } from '../../shared/domain/access';
import type { AccessContext, AccessPrincipal } from '../services/access/access-control';
import { LocalRegistrySource, type MirrorSourceSnapshot } from '../services/mirrors/mirror-source';
import type { RegistryAuthorizer } from '../services/registry/registry-authorizer';
import type { MirrorManager } from '../services/mirrors/mirror-manager';
import type { JobRecord } from '../../shared/domain/jobs';
import type { MirrorRankEntry } from '../../shared/domain/mirrors';
import type { Core } from '../services/composition-root';
import { carriesSession, type ApiRouteHandler } from './http-host';
import { readJsonBody } from './json-body';
import { requireMethod, sendJson } from './http-json';
import { prefixedApiRoute } from './prefixed-api-route';

export interface MirrorsRouteOptions {
  mirrors: MirrorManager;
  authorizer: RegistryAuthorizer;
  /** Starts a sync job (`POST /api/v1/mirrors/sync`); absent where this build cannot sync. */
  startSync?: (request: { ids?: string[]; prune: boolean }) => Promise<JobRecord>;
  /** What `mirror sync --registry` reads: this registry's serial and the versions the caller may download. */
  source?: (principal: AccessPrincipal) => Promise<MirrorSourceSnapshot>;
  /** Ranks the mirrors for one version (`GET /api/v1/mirrors/rank`); absent until a selector is wired. */
  rank?: (request: { name: string; version: string; region?: string }) => Promise<MirrorRankEntry[]>;
}

const syncBodySchema = z.object({ ids: z.array(mirrorIdSchema).max(200).optional(), prune: z.boolean().default(false) }).strict();

/**
 * `/api/v1/mirrors…`: the mirror set over HTTP. Viewing needs ViewStats, every change ManageMirrors;
 * keys authenticate by bearer, the app's own UI (session cookie) reads as the local user.
 */
export function createMirrorsRoutes(options: MirrorsRouteOptions): ApiRouteHandler {
  const { mirrors, authorizer } = options;
  const { access } = authorizer;
  const sourceOf = (request: IncomingMessage): string | null => request.socket.remoteAddress ?? null;
  const allow = (request: IncomingMessage, permission: Permission): AccessContext => {
    const authenticated = authorizer.authenticate(request.headers.authorization, sourceOf(request));
    const isRead = request.method === 'GET' || request.method === 'HEAD';
    const principal = authenticated.kind === 'anonymous' && isRead && carriesSession(request) ? access.localPrincipal() : authenticated;
    authorizer.authorize(principal, permission);
    return { principal, source: sourceOf(request) };
  };

  return prefixedApiRoute('/api/v1/mirrors', route);

  async function route(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const rest = url.pathname.slice('/api/v1/mirrors'.length).split('/').filter((segment) => segment !== '');
    const method = request.method ?? 'GET';
    const [first, second, ...extra] = rest;
    if (extra.length > 0) throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
    if (first === undefined) {
      requireMethod(method, ['GET', 'POST']);
      if (method === 'GET') {
        allow(request, 'ViewStats');
        sendJson(response, 200, { mirrors: await mirrors.list() });
        return;
      }
      const context = allow(request, 'ManageMirrors');
      const view = await mirrors.add(await readJsonBody(request, mirrorConfigSchema));
      access.record(context, 'mirror.add', `mirror:${view.config.id}`, { url: view.config.url });
      sendJson(response, 201, view, { Location: `/api/v1/mirrors/${view.config.id}` });
      return;
    }
    if (second === undefined && first === 'stats') {
      requireMethod(method, ['GET']);
      allow(request, 'ViewStats');
      sendJson(response, 200, await mirrors.stats());
      return;
    }
    if (second === undefined && first === 'rank') {
      requireMethod(method, ['GET']);
      allow(request, 'ViewStats');
      const name = url.searchParams.get('name');
      const version = url.searchParams.get('version');
      if (!name || !version) throw new DepotError('VALIDATION_FAILED', 'rank needs ?name= and ?version=.');
      if (!options.rank) throw new DepotError('UNAVAILABLE', 'Mirror ranking is not built yet in this build.', { reason: 'not-built-yet' });
      const region = url.searchParams.get('region');
      sendJson(response, 200, { ranking: await options.rank({ name, version, ...(region ? { region } : {}) }) });
      return;
    }
    if (second === undefined && first === 'sync') {
      requireMethod(method, ['POST']);
      const context = allow(request, 'ManageMirrors');
      const body = await readJsonBody(request, syncBodySchema);
      if (!options.startSync) throw new DepotError('UNAVAILABLE', 'Mirror sync is not built yet in this build.', { reason: 'not-built-yet' });
      const job = await options.startSync({ prune: body.prune, ...(body.ids ? { ids: body.ids } : {}) });
      access.record(context, 'mirror.sync', null, { ids: body.ids ?? null, prune: body.prune, job: job.id });
      sendJson(response, 202, job, { Location: `/api/v1/jobs/${job.id}` });
      return;
    }
    if (second === undefined && first === 'source') {
      requireMethod(method, ['GET']);
      const { principal } = allow(request, 'ViewMetadata');
      if (!options.source) throw new DepotError('UNAVAILABLE', 'This host does not serve a mirror source.', { reason: 'not-built-yet' });
      sendJson(response, 200, await options.source(principal));
      return;
    }
    if (second === undefined && first === 'settings') {
      requireMethod(method, ['GET', 'PUT']);
      if (method === 'GET') {
        allow(request, 'ViewStats');
        sendJson(response, 200, writeMirrorsSettings(await mirrors.settings()));
        return;
      }
      const context = allow(request, 'ManageMirrors');
      const saved = writeMirrorsSettings(await mirrors.setSettings(await readJsonBody(request, mirrorsSettingsSchema)));
      access.record(context, 'mirror.settings', null, { selection_strategy: saved.selection_strategy });
      sendJson(response, 200, saved);
      return;
    }
    const id = decodeId(first);
    if (second === undefined) {
      requireMethod(method, ['GET', 'PATCH', 'DELETE']);
      if (method === 'GET') {
        allow(request, 'ViewStats');
        sendJson(response, 200, await mirrors.get(id));
        return;
      }
      const context = allow(request, 'ManageMirrors');
      if (method === 'PATCH') {
        const changes = await readJsonBody(request, mirrorChangesSchema);
        const view = await mirrors.update(id, changes);
        access.record(context, 'mirror.update', `mirror:${id}`, { fields: Object.keys(changes) });
        sendJson(response, 200, view);
        return;
      }
      await mirrors.remove(id);
      access.record(context, 'mirror.remove', `mirror:${id}`);
      response.writeHead(204, { 'Cache-Control': 'no-store' });
      response.end();
      return;
    }
    if (second === 'check') {
      requireMethod(method, ['POST']);
      allow(request, 'ManageMirrors');
      const [view] = await mirrors.check(id);
      sendJson(response, 200, view);
      return;
    }
    if (second === 'history') {
      requireMethod(method, ['GET']);
      allow(request, 'ViewStats');
      const limit = Number(url.searchParams.get('limit') ?? 60);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new DepotError('VALIDATION_FAILED', 'limit is a whole number from 1 to 1000.');
      sendJson(response, 200, { checks: await mirrors.history(id, limit) });
      return;
    }
    throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
  }
}

function decodeId(segment: string): string {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    throw new DepotError('VALIDATION_FAILED', 'Malformed URL encoding.');
  }
  if (!mirrorIdSchema.safeParse(id).success) throw new DepotError('NOT_FOUND', `No mirror with id "${id.slice(0, 64)}".`, { reason: 'no-such-mirror' });
  return id;
}

/** The mirrors routes as every shell wires them (headless host, the desktop's embedded registry). */
export function createCoreMirrorsRoutes(core: Pick<Core, 'mirrors' | 'authorizer' | 'registry' | 'registryChanges' | 'registryEndpoint' | 'access'>): ApiRouteHandler {
  return createMirrorsRoutes({
    mirrors: core.mirrors,
    authorizer: core.authorizer,
    startSync: async (request) => (await core.mirrors.startSync(request)).record,
    rank: (request) => core.mirrors.rank(request),
    // Only what the caller may download: a mirror synced with a key holds no more than that key can fetch.
    source: (principal) =>
      new LocalRegistrySource(core.registry, core.registryChanges, () => core.registryEndpoint.url(), () => {
        // Mirrors are static hosting: private packages never go there, whoever asks.
        const hidden = new Set(core.access.listPackageAccess(core.access.localContext()).filter((entry) => entry.visibility === 'private').map((entry) => entry.name));
        return (name) => !hidden.has(name) && core.access.check(principal, 'DownloadPackage', name).granted;
      }).snapshot(),
  });
}
