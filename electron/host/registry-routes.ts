import { z } from 'zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { DepotError } from '../../shared/errors';
import { publishMetadataSchema, type PublishMetadata } from '../../shared/domain/registry';
import { consistencyLevelSchema, type ConsistencyLevel } from '../../shared/domain/replication';
import type { RegistryService } from '../services/registry/registry-service';
import type { RegistryAuthorizer, RegistryAction, RegistryPrincipal } from '../services/registry/registry-authorizer';
import { receiveUpload } from '../services/registry/upload-receiver';
import type { Logger } from '../services/logger';
import type { MetricsCollector } from '../services/metrics/metrics-collector';
import { appVersion } from '../services/version';
import { carriesSession, clientAddressOf, type ApiRouteHandler } from './http-host';
import { discardUnreadBody, requireMethod, sendError, sendJson } from './http-json';
import { createAccessRoutes } from './access-routes';
import { readJsonBody } from './json-body';
import { updatePackageAccessRequestSchema } from '../../shared/domain/access';
import type { AccessContext } from '../services/access/access-control';
import { parseRangeHeader } from './byte-range';
import { surrogateKeyHeaders } from '../../shared/domain/cdn';

export interface RegistryRouteOptions {
  registry: RegistryService;
  authorizer: RegistryAuthorizer;
  tmpDir: string;
  maxPackageBytes: () => number;
  logger: Logger;
  /** Records downloads, uploads and failures (absent: nothing recorded). */
  metrics?: MetricsCollector;
  /** Answer full downloads with a redirect to a presigned blob URL (S3/GCS/Azure blob stores). */
  presignedDownloads?: () => boolean;
  /** Hybrid routing (`download?route=auto`): where a public version should come from and why; null: from here. */
  route?: (request: { name: string; version: string; size: number; clientIp: string }) => Promise<{ url: string; header: string; kind: string } | null>;
}

type PackageTarget = { name: string; version?: string; action?: 'download' | 'yank' | 'unyank' | 'signature' };

// Digits and dots, optionally -pre/+build: `1.0` is a (bad) version, `3d-unet` is a name.
const versionLike = /^\d+(\.\d+)*([-+].*)?$/;

/**
 * Splits `/api/v1/packages/<name>[/<version>][/<action>]`, where a scoped name takes two segments
 * (`vision/quokka`). A second segment is a version only when it looks like one.
 */
export function parsePackagePath(segments: string[]): PackageTarget | null {
  const parts = [...segments];
  let action: PackageTarget['action'];
  const last = parts.at(-1);
  if (last === 'download' || last === 'yank' || last === 'unyank' || last === 'signature') {
    action = last;
    parts.pop();
  }
  const tail = parts.at(-1);
  const hasVersion = parts.length >= 2 && tail !== undefined && versionLike.test(tail);
  const version = hasVersion ? parts.pop() : undefined;
  if (parts.length < 1 || parts.length > 2 || parts.some((part) => part === '')) return null;
  if (action && !version) return null;
  return { name: parts.join('/'), ...(version ? { version } : {}), ...(action ? { action } : {}) };
}

/** The registry's HTTP API v1. Authentication is by bearer key, not by the UI's session token. */
export function createRegistryRoutes(options: RegistryRouteOptions): ApiRouteHandler {
  const { registry, authorizer } = options;

  const { access } = authorizer;
  const accessRoutes = createAccessRoutes(access);
  const sourceOf = (request: IncomingMessage): string | null => clientAddressOf(request);
  /** A bearer key's user; else, for reads from the app's own UI (session cookie, same site only), the local user; else anonymous. */
  const principalOf = (request: IncomingMessage): RegistryPrincipal => {
    const principal = authorizer.authenticate(request.headers.authorization, sourceOf(request));
    const isRead = request.method === 'GET' || request.method === 'HEAD';
    return principal.kind === 'anonymous' && isRead && carriesSession(request) ? access.localPrincipal() : principal;
  };
  const contextOf = (request: IncomingMessage): AccessContext => ({ principal: principalOf(request), source: sourceOf(request) });
  const principalFor = (request: IncomingMessage, action: RegistryAction, name?: string): RegistryPrincipal => {
    const principal = principalOf(request);
    authorizer.authorize(principal, action, name);
    return principal;
  };

  return async (request, response, url) => {
    if (!url.pathname.startsWith('/api/')) return false;
    try {
      await route(request, response, url);
    } catch (error) {
      const bodyUnread = request.method !== 'GET' && request.method !== 'HEAD' && !request.readableEnded;
      options.metrics?.recordError(operationOf(request.method, url.pathname), 'registry', error instanceof DepotError ? error.code : 'INTERNAL');
      sendError(response, error);
      if (bodyUnread) discardUnreadBody(request);
    }
    return true;
  };

  async function route(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const segments = url.pathname.split('/').slice(1).map(decodeSegment);
    const [api, v1, resource, ...rest] = segments;
    if (api !== 'api' || v1 !== 'v1') throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
    const method = request.method ?? 'GET';

    if (resource === 'health' && rest.length === 0) {
      requireMethod(method, ['GET', 'HEAD']);
      sendJson(response, 200, { status: 'ok', version: appVersion });
      return;
    }
    if (resource === 'search' && rest.length === 0) {
      requireMethod(method, ['GET']);
      // Search lists only what the caller may see (anonymous: public packages).
      const visibility = access.searchVisibility(principalOf(request));
      const page = intParam(url, 'page', 1, 1, 100_000);
      const perPage = intParam(url, 'per_page', 20, 1, 100);
      sendJson(response, 200, registry.search(url.searchParams.get('q') ?? '', page, perPage, visibility.all ? undefined : visibility));
      return;
    }
    if (resource === 'resolve' && rest.length >= 1 && rest.length <= 2) {
      requireMethod(method, ['GET']);
      const name = rest.join('/');
      principalFor(request, 'read', name);
      sendJson(response, 200, registry.resolve(name, url.searchParams.get('range') ?? '*'));
      return;
    }
    if (await accessRoutes({ request, response, url, method, resource, rest, context: () => contextOf(request) })) return;
    if (resource === 'packages') {
      const target = parsePackagePath(rest);
      if (!target) throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
      await packageRoute(request, response, method, target, url);
      return;
    }
    throw new DepotError('NOT_FOUND', `No API at ${url.pathname}.`);
  }

  async function packageRoute(request: IncomingMessage, response: ServerResponse, method: string, target: PackageTarget, url: URL): Promise<void> {
    const { name, version, action } = target;
    if (version === undefined && method === 'PATCH') {
      const context = contextOf(request);
      // Visibility and owners: AccessControl decides (owners, or ManageSecurity); refused before the body is read.
      access.enforcePackageAdministration(context.principal, name, false);
      sendJson(response, 200, access.setPackageAccess(context, name, await readJsonBody(request, updatePackageAccessRequestSchema)));
      return;
    }
    if (version === undefined) {
      requireMethod(method, ['GET', 'PATCH']);
      principalFor(request, 'read', name);
      sendJson(response, 200, registry.listVersions(name));
      return;
    }
    if (action === 'yank' || action === 'unyank') {
      requireMethod(method, ['POST']);
      const principal = principalFor(request, 'yank', name);
      const updated = registry.setYanked(name, version, action === 'yank');
      access.record({ principal, source: sourceOf(request) }, `package.${action}`, `package:${name}@${version}`);
      sendJson(response, 200, updated);
      return;
    }
    if (action === 'signature') {
      await signature(request, response, method, name, version, url);
      return;
    }
    if (action === 'download') {
      requireMethod(method, ['GET', 'HEAD']);
      principalFor(request, 'download', name);
      await download(request, response, method, name, version, url.searchParams.get('route'));
      return;
    }
    if (method === 'PUT') {
      await publish(request, response, name, version);
      return;
    }
    requireMethod(method, ['GET', 'PUT']);
    principalFor(request, 'read', name);
    sendJson(response, 200, registry.getVersion(name, version));
  }

  async function publish(request: IncomingMessage, response: ServerResponse, name: string, version: string): Promise<void> {
    // Refuse before reading a byte of the body: no key, wrong names, too large, bad metadata.
    const principal = principalFor(request, 'publish', name);
    const metadata = parseMetadataHeader(request.headers['x-torsh-metadata']);
    const sealed = parseEncryptedHeader(request.headers['x-torsh-encrypted']);
    const consistency = parseConsistencyHeader(request.headers['x-torsh-consistency']);
    const limit = options.maxPackageBytes();
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      throw new DepotError('PAYLOAD_TOO_LARGE', `The package (${declared} bytes) is larger than the limit of ${limit} bytes.`);
    }
    const started = performance.now();
    const aborted = new AbortController();
    const onClose = (): void => {
      if (!request.readableEnded) aborted.abort(new DepotError('CANCELLED', 'The client went away during the upload.'));
    };
    request.on('close', onClose);
    try {
      const upload = await receiveUpload(request, { tmpDir: options.tmpDir, maxBytes: limit, signal: aborted.signal, name: 'publish', syncInBackground: true });
      const ownerUserId = principal.kind === 'user' ? principal.user.id : null;
      // Checked again inside the transaction that records the version: access may change during a long upload.
      const authorize = (): void => authorizer.authorize(principalOf(request), 'publish', name);
      const publishing = { name, version, ...(metadata ? { metadata } : {}), ...(consistency ? { consistency } : {}), publisher: authorizer.describe(principal), ownerUserId, signal: aborted.signal, authorize };
      const result = sealed ? await registry.publishSealedUpload(upload, { ...publishing, dependencies: sealed.dependencies }) : await registry.publishUpload(upload, publishing);
      const { created, ...body } = result;
      // Re-publishing the same bytes changes nothing, so it is not an event.
      if (created) access.record({ principal, source: sourceOf(request) }, 'package.publish', `package:${name}@${version}`, { digest: result.digest, size: result.size });
      sendJson(response, created ? 201 : 200, body);
      options.metrics?.recordUpload(name, version, upload.size, performance.now() - started, 'registry');
    } finally {
      request.off('close', onClose);
    }
  }

  /** PUT: a minisign signature file (text/plain), authorized like publishing. GET: one (`?key_id=`) or the best. */
  async function signature(request: IncomingMessage, response: ServerResponse, method: string, name: string, version: string, url: URL): Promise<void> {
    requireMethod(method, ['GET', 'PUT']);
    if (method === 'PUT') {
      const principal = principalFor(request, 'publish', name);
      const text = await readSmallTextBody(request, maxSignatureBytes);
      // Replacing a key's signature: its uploader, or ManageSecurity (access control decides).
      const uploader = { id: principal.kind === 'user' ? principal.user.id : null, mayReplaceAny: access.check(principal, 'ManageSecurity', name).granted };
      sendJson(response, 200, await registry.putSignature(name, version, text, authorizer.describe(principal), uploader));
      return;
    }
    principalFor(request, 'read', name);
    const text = registry.getSignature(name, version, url.searchParams.get('key_id') ?? undefined);
    response.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    response.end(text);
  }

  async function download(request: IncomingMessage, response: ServerResponse, method: string, name: string, version: string, routeMode: string | null = null): Promise<void> {
    const started = performance.now();
    const metadata = registry.getVersion(name, version);
    const etag = `"${metadata.digest}"`;
    // Shared caches (CDNs, proxies) may keep only what anyone may download; the rest stays per caller.
    const isPublic = access.check({ kind: 'anonymous' }, 'DownloadPackage', name).granted;
    const headers: Record<string, string> = {
      ETag: etag,
      'Accept-Ranges': 'bytes',
      'Cache-Control': isPublic ? 'public, max-age=31536000, immutable' : 'private, max-age=0, must-revalidate',
      ...(isPublic ? {} : { Vary: 'Authorization, Cookie' }),
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${name.replace('/', '__')}-${version}.torshpkg"`,
      'X-Content-Type-Options': 'nosniff',
      // CDN edges in front of serve tag the object, so one purge clears a package or a version.
      ...surrogateKeyHeaders(name, version),
    };
    if (routeMode === 'auto' && options.route) {
      // Only what anyone may download leaves for an edge or a mirror; the rest is served here, to this caller.
      const decision = isPublic ? await options.route({ name, version, size: metadata.size, clientIp: clientAddressOf(request) }) : null;
      if (decision && decision.kind !== 'registry') {
        response.writeHead(302, { Location: decision.url, 'X-Torsh-Route': decision.header, 'Cache-Control': 'no-store' });
        response.end();
        return;
      }
      headers['X-Torsh-Route'] = decision?.header ?? `registry; reason="${isPublic ? 'no CDN is configured' : 'not public: served by the registry to this caller'}"`;
    }
    if (ifNoneMatchHits(request.headers['if-none-match'], etag)) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    const ifRange = request.headers['if-range'];
    const rangeAllowed = ifRange === undefined || ifRange === etag;
    const rangeRequest = rangeAllowed ? parseRangeHeader(request.headers.range, metadata.size) : ({ kind: 'none' } as const);
    if (rangeRequest.kind === 'unsatisfiable') {
      response.writeHead(416, { ...headers, 'Content-Range': `bytes */${metadata.size}` });
      response.end();
      return;
    }
    const range = rangeRequest.kind === 'range' ? rangeRequest.range : undefined;
    if (method === 'GET' && !range && options.presignedDownloads?.()) {
      const location = await registry.presignedDownloadUrl(name, version, presignedUrlSeconds);
      if (location) {
        registry.recordDownload(name, version);
        // The presigned URL is a bearer credential for a while: no cache may keep or share it.
        response.writeHead(302, { Location: location, ETag: etag, 'Cache-Control': isPublic ? 'no-store' : 'private, no-store', ...(isPublic ? {} : { Vary: 'Authorization, Cookie' }) });
        response.end();
        return;
      }
    }
    const length = range ? range.end - range.start + 1 : metadata.size;
    const status = range ? 206 : 200;
    response.writeHead(status, {
      ...headers,
      'Content-Length': String(length),
      ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${metadata.size}` } : {}),
    });
    if (method === 'HEAD') {
      response.end();
      return;
    }
    // A resumed transfer is the same download, not another one.
    if (!range || range.start === 0) registry.recordDownload(name, version);
    const { stream } = await registry.openDownload(name, version, range);
    try {
      await pipeline(stream, response);
      if (!range || range.start === 0) options.metrics?.recordDownload(name, version, length, performance.now() - started, 'registry');
    } catch (error) {
      options.metrics?.recordError('download', 'registry', 'TRANSFER_FAILED');
      if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') options.logger.warn(`download of ${name}@${version} failed: ${(error as Error).message}`);
      response.destroy();
    }
  }
}

function operationOf(method: string | undefined, pathname: string): string {
  if (pathname.endsWith('/download')) return 'download';
  if (pathname.endsWith('/signature')) return 'signature';
  return method === 'PUT' ? 'publish' : 'api';
}

// A minisign signature is four short lines; anything near this is not one.
const maxSignatureBytes = 16 * 1024;

async function readSmallTextBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBytes) throw new DepotError('PAYLOAD_TOO_LARGE', `A signature is at most ${maxBytes} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
/** Long enough for a slow start on a large file; the client gets a fresh one on every request. */
const presignedUrlSeconds = 15 * 60;

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new DepotError('VALIDATION_FAILED', 'Malformed URL encoding.');
  }
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new DepotError('VALIDATION_FAILED', `${name} must be a whole number from ${min} to ${max}.`);
  }
  return Number(raw);
}

function parseMetadataHeader(header: string | string[] | undefined): PublishMetadata | undefined {
  return parseJsonHeader('X-Torsh-Metadata', header, publishMetadataSchema);
}

/** `X-Torsh-Consistency: eventual|quorum|strong|causal` (`publish --consistency`): overrides the replication rule's level. */
function parseConsistencyHeader(header: string | string[] | undefined): ConsistencyLevel | undefined {
  if (header === undefined) return undefined;
  const parsed = consistencyLevelSchema.safeParse(Array.isArray(header) ? header[0] : header.trim());
  if (!parsed.success) throw new DepotError('VALIDATION_FAILED', `X-Torsh-Consistency must be eventual, quorum, strong or causal.`, { reason: 'bad-consistency' });
  return parsed.data;
}

/** A package encrypted by its publisher: `X-Torsh-Encrypted: {"dependencies": {...}}` (the registry cannot read them). */
const sealedPublishSchema = z.object({ dependencies: z.record(z.string().min(1).max(214), z.string().min(1).max(256)).default({}) }).strict();

function parseEncryptedHeader(header: string | string[] | undefined): z.infer<typeof sealedPublishSchema> | undefined {
  return parseJsonHeader('X-Torsh-Encrypted', header, sealedPublishSchema);
}

function parseJsonHeader<Schema extends z.ZodType>(name: string, header: string | string[] | undefined, schema: Schema): z.infer<Schema> | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DepotError('VALIDATION_FAILED', `${name} is not valid JSON.`);
  }
  const checked = schema.safeParse(parsed);
  if (!checked.success) throw new DepotError('VALIDATION_FAILED', `${name} is invalid: ${checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return checked.data;
}

function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}
