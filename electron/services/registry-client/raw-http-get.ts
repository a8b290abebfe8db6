import net from 'node:net';

/** A download response whose body arrives as large chunks this code owns (they may be transferred to a worker). */
export interface StreamedResponse {
  status: number;
  headers: Headers;
  body: AsyncIterable<Uint8Array>;
  /** Stops reading and closes the connection; a pending body read ends with an error. */
  cancel(): void;
}

/** The response uses framing this reader does not handle (chunked, 1xx): the caller asks again through fetch. */
export class RawHttpUnsupported extends Error {}

const readBufferBytes = 1024 * 1024;
const chunkBytes = 2 * 1024 * 1024;
/** Hand a partly filled chunk to a waiting reader once it holds this much, or after `partialDelayMs` of quiet. */
const partialChunkBytes = 512 * 1024;
const partialDelayMs = 20;
/** Chunks received but not yet taken before the socket is paused (backpressure). */
const maxQueuedChunks = 4;
const maxHeadBytes = 64 * 1024;

/**
 * `GET` over a plain socket for large `http:` downloads. Node's HTTP client (and undici's fetch)
 * hands the body over in 16–64 KiB pieces, each a fresh allocation and a trip through the parser;
 * reading into one 1 MiB buffer and collecting 2 MiB chunks roughly halves the receive cost of a
 * 1 GiB package. Only `Content-Length` or read-until-close bodies are handled; anything else is
 * `RawHttpUnsupported` before a body byte is consumed.
 */
export function rawHttpGet(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<StreamedResponse> {
  if (url.protocol !== 'http:') return Promise.reject(new RawHttpUnsupported(`${url.protocol} is not plain HTTP`));
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) return Promise.reject(new Error(`header ${name} contains a line break`));
    lines.push(`${name}: ${value}`);
  }
  const request = `${lines.join('\r\n')}\r\n\r\n`;
  return new Promise<StreamedResponse>((resolve, reject) => {
    const body = new BodyQueue(() => socket.pause(), () => socket.resume());
    let head: Buffer = Buffer.alloc(0);
    let remaining: number | null = null;
    let settled = false;
    const fail = (error: Error): void => {
      if (!settled) {
        settled = true;
        reject(error);
      }
      body.fail(error);
      socket.destroy();
    };
    const onAbort = (): void => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const socket = net.connect({
      host: hostname,
      port: url.port === '' ? 80 : Number(url.port),
      onread: {
        buffer: Buffer.allocUnsafe(readBufferBytes),
        callback: (bytes: number, buffer: Uint8Array): boolean => {
          let data = buffer.subarray(0, bytes);
          if (!settled) {
            head = Buffer.concat([head, data]);
            const end = head.indexOf('\r\n\r\n');
            if (end > maxHeadBytes || (end < 0 && head.length > maxHeadBytes)) {
              fail(new Error('the response head is larger than 64 KiB'));
              return false;
            }
            if (end < 0) return true;
            let parsed: { status: number; headers: Headers };
            try {
              parsed = parseHead(head.subarray(0, end).toString('latin1'));
            } catch (error) {
              fail(error as Error);
              return false;
            }
            const length = parsed.headers.get('content-length');
            remaining = parsed.status === 204 || parsed.status === 304 ? 0 : length === null ? null : Number(length);
            if (remaining !== null && !(Number.isSafeInteger(remaining) && remaining >= 0)) {
              fail(new Error(`bad Content-Length "${length ?? ''}"`));
              return false;
            }
            settled = true;
            resolve({ status: parsed.status, headers: parsed.headers, body, cancel: () => fail(new Error('download cancelled')) });
            data = head.subarray(end + 4);
            head = Buffer.alloc(0);
          }
          if (remaining !== null) data = data.subarray(0, remaining);
          if (data.length > 0) body.push(data);
          if (remaining !== null) {
            remaining -= data.length;
            if (remaining === 0) {
              body.end();
              socket.destroy();
              return false;
            }
          }
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(request));
    socket.on('error', (error) => fail(error));
    socket.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (!settled) fail(new Error('the connection closed before a response'));
      else if (remaining === null) body.end();
      else if (remaining > 0) body.fail(new Error(`the connection closed with ${remaining} bytes of the body missing`));
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

function parseHead(text: string): { status: number; headers: Headers } {
  const [statusLine = '', ...headerLines] = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) throw new Error(`not an HTTP/1.1 response: "${statusLine.slice(0, 80)}"`);
  const status = Number(match[1]);
  if (status < 200) throw new RawHttpUnsupported(`interim response ${status}`);
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad response header line "${line.slice(0, 80)}"`);
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (headers.has('transfer-encoding')) throw new RawHttpUnsupported(`Transfer-Encoding: ${headers.get('transfer-encoding') ?? ''}`);
  return { status, headers };
}

/**
 * Chunk buffers the download sink's worker handed back after writing them: reused instead of
 * allocating 2 MiB per chunk. Fresh allocations handed to a worker are freed only when that worker's
 * heap is collected, which its tiny heap rarely asks for; they piled up to ~70 MiB of RSS per pull.
 */
const spareChunks: ArrayBuffer[] = [];
const maxSpareChunks = 8;

export function recycleChunkBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength === chunkBytes && spareChunks.length < maxSpareChunks) spareChunks.push(buffer);
}

function chunkBuffer(): Uint8Array {
  const spare = spareChunks.pop();
  return spare ? new Uint8Array(spare) : Buffer.allocUnsafeSlow(chunkBytes);
}

/** Copies socket reads into big chunks and hands them to one async reader, pausing the socket when it lags. */
class BodyQueue implements AsyncIterable<Uint8Array> {
  private current: Uint8Array = chunkBuffer();
  private filled = 0;
  private readonly ready: Uint8Array[] = [];
  private ended = false;
  private error: Error | null = null;
  private waiter: (() => void) | null = null;
  private partialTimer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {}

  push(data: Uint8Array): void {
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(data.length - offset, chunkBytes - this.filled);
      this.current.set(data.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === chunkBytes) this.seal();
    }
    if (this.waiter && this.ready.length === 0 && this.filled > 0) {
      if (this.filled >= partialChunkBytes) this.seal();
      else this.partialTimer ??= setTimeout(() => this.sealForWaiter(), partialDelayMs);
    }
    if (this.ready.length >= maxQueuedChunks && !this.paused) {
      this.paused = true;
      this.pause();
    }
    this.wake();
  }

  end(): void {
    if (this.ended || this.error) return;
    if (this.filled > 0) this.seal();
    this.ended = true;
    this.wake();
  }

  fail(error: Error): void {
    if (this.ended || this.error) return;
    this.error = error;
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const next = this.ready.shift();
      if (next) {
        if (this.paused && this.ready.length < maxQueuedChunks / 2) {
          this.paused = false;
          this.resume();
        }
        yield next;
        continue;
      }
      if (this.error) throw this.error;
      if (this.ended) return;
      if (this.filled >= partialChunkBytes) {
        this.seal();
        continue;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        if (this.filled > 0) this.partialTimer ??= setTimeout(() => this.sealForWaiter(), partialDelayMs);
      });
    }
  }

  private sealForWaiter(): void {
    this.partialTimer = undefined;
    if (this.filled > 0 && this.ready.length === 0) this.seal();
    this.wake();
  }

  private seal(): void {
    // The chunk keeps its own ArrayBuffer, so a consumer may transfer it without touching the next one.
    this.ready.push(this.filled === chunkBytes ? this.current : this.current.subarray(0, this.filled));
    this.current = chunkBuffer();
    this.filled = 0;
    clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
