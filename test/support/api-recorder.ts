import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface RecorderAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface ApiRecorder {
  /** http://127.0.0.1:PORT */
  url: string;
  calls: RecordedCall[];
  /** Checks that failed inside the handler (answered 500): a test asserts this stays empty. */
  failures: string[];
  stop(): Promise<void>;
}

/**
 * A small HTTP server on 127.0.0.1 that records every request and answers through the test's own
 * handler: the test writes the provider's documented checks and replies there.
 */
export async function startApiRecorder(handle: (call: RecordedCall, index: number) => RecorderAnswer | Promise<RecorderAnswer>): Promise<ApiRecorder> {
  const calls: RecordedCall[] = [];
  const failures: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const call: RecordedCall = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const index = calls.push(call) - 1;
      Promise.resolve()
        .then(() => handle(call, index))
        .then(
          (answer) => {
            response.writeHead(answer.status, answer.headers ?? {});
            response.end(answer.body ?? '');
          },
          (error: unknown) => {
            failures.push(`${call.method} ${call.url}: ${(error as Error).message}`);
            response.writeHead(500, { 'Content-Type': 'text/plain' });
            response.end(`recorder check failed: ${(error as Error).message}`);
          },
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failures,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
