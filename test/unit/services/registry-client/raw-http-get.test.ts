import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rawHttpGet, RawHttpUnsupported } from '../../../../electron/services/registry-client/raw-http-get';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('rawHttpGet', () => {
  it('sends our headers and yields exactly the Content-Length body, in large chunks, across many writes', async () => {
    const payload = randomBytes(5 * 1024 * 1024 + 123);
    let seen: http.IncomingHttpHeaders = {};
    const origin = await serve((request, response) => {
      seen = request.headers;
      response.writeHead(200, { 'Content-Length': payload.length, ETag: '"x"' });
      // Many small writes: the reader must reassemble them.
      for (let at = 0; at < payload.length; at += 60_000) response.write(payload.subarray(at, at + 60_000));
      response.end();
    });
    const response = await rawHttpGet(new URL(`${origin}/a/b?c=d`), { Authorization: 'Bearer k', Range: 'bytes=0-' }, new AbortController().signal);
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"x"');
    const body = await collect(response.body);
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(seen.authorization).toBe('Bearer k');
    expect(seen.range).toBe('bytes=0-');
  });

  it('declines chunked framing before consuming the body (the caller asks fetch instead)', async () => {
    const origin = await serve((_request, response) => {
      response.write('part one');
      response.end('part two');
    });
    await expect(rawHttpGet(new URL(origin), {}, new AbortController().signal)).rejects.toBeInstanceOf(RawHttpUnsupported);
  });

  it('fails the body when the connection closes before Content-Length bytes arrived', async () => {
    const origin = await serve((request, response) => {
      response.writeHead(200, { 'Content-Length': 1_000_000 });
      response.write(Buffer.alloc(300_000));
      setTimeout(() => request.socket.destroy(), 50);
    });
    const response = await rawHttpGet(new URL(origin), {}, new AbortController().signal);
    await expect(collect(response.body)).rejects.toThrow(/700000 bytes of the body missing/);
  });

  it('stops on abort, while waiting for the head or for the body', async () => {
    const origin = await serve(() => undefined);
    const controller = new AbortController();
    const pending = rawHttpGet(new URL(origin), {}, controller.signal);
    controller.abort(new Error('stop now'));
    await expect(pending).rejects.toThrow('stop now');

    const slow = await serve((_request, response) => {
      response.writeHead(200, { 'Content-Length': 10 });
      response.write('abc');
    });
    const bodyController = new AbortController();
    const response = await rawHttpGet(new URL(slow), {}, bodyController.signal);
    const reading = collect(response.body);
    bodyController.abort(new Error('cancelled by user'));
    await expect(reading).rejects.toThrow('cancelled by user');
  });

  it('refuses a response head over 64 KiB, and anything but http:', async () => {
    const origin = await serve((_request, response) => {
      response.writeHead(200, { 'X-Huge': 'y'.repeat(70 * 1024), 'Content-Length': 0 });
      response.end();
    });
    await expect(rawHttpGet(new URL(origin), {}, new AbortController().signal)).rejects.toThrow(/larger than 64 KiB/);
    await expect(rawHttpGet(new URL('https://127.0.0.1:1/'), {}, new AbortController().signal)).rejects.toBeInstanceOf(RawHttpUnsupported);
  });
});
