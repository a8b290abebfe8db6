import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Core } from '../services/composition-root';
import { clientMessageSchema, type ServerMessage } from '../../shared/contract/wire';
import { createSessionToken, readCookie, sessionCookieName, tokensMatch } from './session-token';
import { serveStaticFile } from './static-files';
import { discardUnreadBody } from './http-json';
import { TrustedProxies } from './client-address';

/** Requests that carry this host's session token (the UI's cookie): the registry treats them as the local user. */
const sessionRequests = new WeakSet<IncomingMessage>();

/** True when the request came with the host's session token (the app's own UI, e.g. a download link). */
export function carriesSession(request: IncomingMessage): boolean {
  return sessionRequests.has(request);
}

/** The real client of each request (the socket's peer, or X-Forwarded-For from a trusted proxy). */
const clientAddresses = new WeakMap<IncomingMessage, string>();

/** Who made the request: used for the failed-auth limiter, audit and `/metrics`' loopback rule. */
export function clientAddressOf(request: IncomingMessage): string {
  return clientAddresses.get(request) ?? request.socket.remoteAddress ?? 'unknown';
}

/** A handler for API routes that authenticate on their own (bearer keys), e.g. the registry. */
export type ApiRouteHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean>;

export interface HostOptions {
  core: Core;
  host: string;
  port: number;
  /** The built renderer (dist/renderer); null serves no UI (API-only hosts, tests). */
  staticDir: string | null;
  /** Fixed token for tests; a random one otherwise. */
  token?: string;
  apiRoutes?: ApiRouteHandler[];
  /** Routes for the UI that need the session token (e.g. staging an upload from a browser drop). */
  sessionRoutes?: ApiRouteHandler[];
  /** Proxies whose X-Forwarded-For names the client (`serve --trusted-proxy`); none by default. */
  trustedProxies?: TrustedProxies;
  /** A connection with no bytes moving for this long is closed (`serve --idle-timeout`). */
  idleTimeoutMs?: number;
}

export interface RunningHost {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly server: Server;
  close(): Promise<void>;
}

const maxMessageBytes = 1024 * 1024;
export const defaultIdleTimeoutMs = 120_000;
const maxHeadersTimeoutMs = 60_000;

/**
 * The headless host: the same core as the desktop app, its contract carried over a WebSocket at
 * `/ws`, the built UI served at `/`. Everything but the token-free API routes needs the session token.
 */
export async function startHttpHost(options: HostOptions): Promise<RunningHost> {
  const token = options.token ?? createSessionToken();
  const { core } = options;
  const sockets = new Set<Socket>();
  const webSockets = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes });
  let boundPort = options.port;

  const securityHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws://${hostForUrl(options.host)}:${boundPort} ws://localhost:${boundPort}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
    'X-Content-Type-Options': 'nosniff',
    // The token travels in the first URL: never leak it through Referer.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });

  const presentedToken = (request: IncomingMessage, url: URL): string | undefined =>
    url.searchParams.get('token') ?? readCookie(request.headers.cookie, sessionCookieName(boundPort));

  const trustedProxies = options.trustedProxies ?? new TrustedProxies();
  const idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
  const headersTimeoutMs = Math.min(maxHeadersTimeoutMs, idleTimeoutMs);
  const server = createServer(
    {
      // Large publishes and staging uploads may take hours: no wall-clock limit while bytes flow (the idle timeout cuts stalls).
      requestTimeout: 0,
      // Slow-loris headers are still bounded.
      headersTimeout: headersTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(headersTimeoutMs / 4))),
    },
    (request, response) => {
      void handleHttp(request, response).catch((error: unknown) => {
        core.logger.error('request failed', error);
        if (!response.headersSent) sendText(response, 500, 'Internal error');
        else response.destroy();
      });
    },
  );
  // No bytes either way for this long: the socket is destroyed (uploads and downloads that move are never cut).
  server.setTimeout(idleTimeoutMs);
  // Idle keep-alive sockets outlive the clients' own pools (undici keeps them 4 s less a margin), so a client never
  // sends a request on a socket the host is closing at that moment (ECONNRESET on a loaded machine).
  server.keepAliveTimeout = Math.min(65_000, idleTimeoutMs);

  async function handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    clientAddresses.set(request, trustedProxies.clientAddress(request));
    const url = parseRequestUrl(request.url);
    if (!url) {
      sendText(response, 400, 'Bad request: malformed URL.');
      discardUnreadBody(request);
      return;
    }
    if (!hostHeaderAllowed(request.headers.host, options.host, boundPort)) {
      sendText(response, 421, 'Misdirected request: unexpected Host header.');
      return;
    }
    const presented = presentedToken(request, url);
    if (tokensMatch(token, presented)) sessionRequests.add(request);
    for (const route of options.apiRoutes ?? []) {
      if (await route(request, response, url)) return;
    }
    if (!tokensMatch(token, presented)) {
      sendText(response, 401, 'Unauthorized: open the URL printed by `torsh-depot serve` (it carries the session token).');
      discardUnreadBody(request);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD' && !originAllowed(request.headers.origin, request.headers.host)) {
      sendText(response, 403, 'Forbidden: cross-origin request.');
      discardUnreadBody(request);
      return;
    }
    for (const route of options.sessionRoutes ?? []) {
      if (await route(request, response, url)) return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendText(response, 405, 'Method not allowed');
      return;
    }
    const headers: Record<string, string> = {
      ...securityHeaders(),
      // Assets loaded by the page carry the session in a strict, HTTP-only cookie.
      'Set-Cookie': `${sessionCookieName(boundPort)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
    };
    if (options.staticDir && (await serveStaticFile(options.staticDir, url.pathname, response, headers))) return;
    sendText(response, 404, options.staticDir ? 'Not found' : 'This host serves no UI.');
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  // Any web page can open a WebSocket to this port: nothing in an upgrade may throw past this handler.
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string): void => {
      if (!socket.writable) return;
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    try {
      const url = parseRequestUrl(request.url);
      if (!url) return refuse(400, 'Bad Request');
      if (url.pathname !== '/ws') return refuse(404, 'Not Found');
      if (!hostHeaderAllowed(request.headers.host, options.host, boundPort)) return refuse(421, 'Misdirected Request');
      if (!originAllowed(request.headers.origin, request.headers.host)) return refuse(403, 'Forbidden');
      if (!tokensMatch(token, presentedToken(request, url))) return refuse(401, 'Unauthorized');
      webSockets.handleUpgrade(request, socket, head, (ws) => attachClient(ws));
    } catch (error) {
      core.logger.warn(`refused a malformed upgrade: ${(error as Error).message}`);
      refuse(400, 'Bad Request');
    }
  });

  function attachClient(ws: WebSocket): void {
    const send = (message: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    const unsubscribe = core.events.subscribe((event, payload) => send({ type: 'event', event, payload }));
    ws.on('close', unsubscribe);
    ws.on('error', unsubscribe);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void handleMessage(data, isBinary).catch((error: unknown) => {
        core.logger.warn(`closing a WebSocket after a failed message: ${(error as Error).message}`);
        ws.close(1011, 'internal error');
      });
    });

    async function handleMessage(data: RawData, isBinary: boolean): Promise<void> {
      if (isBinary) {
        ws.close(1003, 'binary messages are not part of the contract');
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawToString(data));
      } catch {
        ws.close(1007, 'messages must be JSON');
        return;
      }
      const message = clientMessageSchema.safeParse(parsed);
      if (!message.success) {
        const id = typeof (parsed as { id?: unknown })?.id === 'number' ? (parsed as { id: number }).id : -1;
        send({ type: 'response', id, ok: false, error: { code: 'VALIDATION_FAILED', message: 'Malformed request message.' } });
        return;
      }
      const result = await core.router.dispatch(message.data.channel, message.data.input, { origin: 'websocket' });
      send({ type: 'response', id: message.data.id, ...result });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  const url = `http://${hostForUrl(options.host)}:${boundPort}/`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: boundPort,
    token,
    server,
    close(): Promise<void> {
      closing ??= (async () => {
        for (const client of webSockets.clients) client.close(1001, 'host shutting down');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Give clients a moment to close politely, then cut what is left.
        const timer = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, 1_000);
        await closed;
        clearTimeout(timer);
        webSockets.close();
      })();
      return closing;
    },
  };
}

/** The request target as a URL, or null when it is not one (`//`, `http://[`, absolute forms with odd hosts). */
function parseRequestUrl(target: string | undefined): URL | null {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return null;
  try {
    return new URL(target, 'http://localhost');
  } catch {
    return null;
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  response.end(`${text}\n`);
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

const loopbackNames = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Guards against DNS rebinding: a loopback-bound host answers only to loopback names. */
function hostHeaderAllowed(hostHeader: string | undefined, boundHost: string, port: number): boolean {
  if (!hostHeader) return false;
  const isLoopbackBind = boundHost === '127.0.0.1' || boundHost === 'localhost' || boundHost === '::1';
  if (!isLoopbackBind) return true;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader);
  if (!match) return false;
  const [, name, portText] = match;
  return name !== undefined && loopbackNames.has(name.toLowerCase()) && (portText === undefined || Number(portText) === port);
}

/** Browsers always send Origin on WebSocket upgrades: it must be this very host (no cross-site sockets). */
function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true; // Non-browser clients (CLI, tests) send none; the token still guards them.
  try {
    return new URL(origin).host === hostHeader;
  } catch {
    return false;
  }
}
