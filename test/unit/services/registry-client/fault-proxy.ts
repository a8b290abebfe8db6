import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy saw: every request, and the status it answered (undefined when it cut the connection first). */
export interface ProxiedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  status?: number;
}

type Match = (request: ProxiedRequest) => boolean;

type Fault =
  | { kind: 'fail'; status: number }
  | { kind: 'drop' }
  | { kind: 'hold' }
  | { kind: 'strip-range' }
  | { kind: 'cut'; afterBytes: number }
  | { kind: 'stall'; afterBytes: number }
  | { kind: 'corrupt'; atByte: number };

interface Rule {
  fault: Fault;
  match: Match;
  remaining: number;
}

export const isDownload: Match = (request) => request.url.endsWith('/download');
export const isPublish: Match = (request) => request.method === 'PUT';
export const anyRequest: Match = () => true;

/**
 * A real HTTP proxy in front of the real registry host that breaks things on command: fails with
 * a status, drops or holds a connection, cuts or stalls a body after N bytes, flips a byte.
 * It exists because the registry cannot produce a mid-body cut or a 503 on demand.
 */
export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly rules: Rule[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly target: URL;

  private constructor(
    private readonly server: http.Server,
    target: string,
  ) {
    this.target = new URL(target);
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (request, response) => this.handle(request, response));
  }

  static async start(target: string): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, target);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  failNext(count: number, status = 503, match: Match = anyRequest): void {
    this.rules.push({ fault: { kind: 'fail', status }, match, remaining: count });
  }

  /** Closes the connection as soon as the request arrives, before any answer. */
  dropNext(match: Match = anyRequest, count = 1): void {
    this.rules.push({ fault: { kind: 'drop' }, match, remaining: count });
  }

  /** Never answers (until the client gives up or the proxy closes). */
  holdNext(match: Match = anyRequest, count = 1): void {
    this.rules.push({ fault: { kind: 'hold' }, match, remaining: count });
  }

  /** Forwards without `Range`/`If-Range`, so the registry answers 200 with the whole file. */
  stripRangeNext(match: Match = isDownload): void {
    this.rules.push({ fault: { kind: 'strip-range' }, match, remaining: 1 });
  }

  cutBodyNext(afterBytes: number, match: Match = isDownload): void {
    this.rules.push({ fault: { kind: 'cut', afterBytes }, match, remaining: 1 });
  }

  stallBodyNext(afterBytes: number, match: Match = isDownload): void {
    this.rules.push({ fault: { kind: 'stall', afterBytes }, match, remaining: 1 });
  }

  corruptBodyNext(atByte = 100, match: Match = isDownload): void {
    this.rules.push({ fault: { kind: 'corrupt', atByte }, match, remaining: 1 });
  }

  count(match: Match = anyRequest): number {
    return this.requests.filter(match).length;
  }

  reset(): void {
    this.rules.length = 0;
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(seen: ProxiedRequest): Fault | null {
    const rule = this.rules.find((candidate) => candidate.remaining > 0 && candidate.match(seen));
    if (!rule) return null;
    rule.remaining -= 1;
    return rule.fault;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const seen: ProxiedRequest = { method: request.method ?? 'GET', url: request.url ?? '/', headers: { ...request.headers } };
    this.requests.push(seen);
    const fault = this.takeFault(seen);
    if (fault?.kind === 'drop') {
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'hold') return;
    if (fault?.kind === 'fail') {
      request.resume();
      const body = JSON.stringify({ error: { code: 'UNAVAILABLE', message: `injected ${fault.status} by the test proxy` } });
      seen.status = fault.status;
      response.writeHead(fault.status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
      response.end(body);
      return;
    }
    const headers: IncomingHttpHeaders = { ...request.headers, host: this.target.host };
    if (fault?.kind === 'strip-range') {
      delete headers.range;
      delete headers['if-range'];
    }
    const upstream = http.request(new URL(seen.url, this.target), { method: seen.method, headers }, (answer) => {
      seen.status = answer.statusCode;
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      this.relayBody(answer, response, fault);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
    request.on('error', () => upstream.destroy());
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
  }

  private relayBody(answer: IncomingMessage, response: ServerResponse, fault: Fault | null): void {
    if (fault?.kind !== 'cut' && fault?.kind !== 'stall' && fault?.kind !== 'corrupt') {
      answer.pipe(response);
      return;
    }
    let relayed = 0;
    answer.on('data', (chunk: Buffer) => {
      if (fault.kind === 'corrupt') {
        const at = fault.atByte - relayed;
        if (at >= 0 && at < chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[at] = (chunk[at] ?? 0) ^ 0xff;
        }
        relayed += chunk.length;
        response.write(chunk);
        return;
      }
      const room = fault.afterBytes - relayed;
      if (room <= 0) return;
      const part = chunk.subarray(0, room);
      relayed += part.length;
      response.write(part);
      if (relayed >= fault.afterBytes) {
        answer.pause();
        // Let the bytes reach the client before the connection dies (cut) or goes silent (stall).
        if (fault.kind === 'cut') setTimeout(() => response.socket?.destroy(), 50);
      }
    });
    answer.on('end', () => {
      if (fault.kind === 'corrupt') response.end();
    });
  }
}
