import WebSocket from 'ws';
import type { JobRecord } from '../../../shared/domain/jobs';

export interface ContractSocket {
  /** One contract request; resolves with its result, rejects with its `{code, message}` envelope. */
  call<T = unknown>(channel: string, input: unknown): Promise<T>;
  /** Starts a job through `channel` and resolves with its record once it has ended. */
  job(channel: string, input: unknown, timeoutMs?: number): Promise<JobRecord>;
  close(): void;
}

/** The headless host's contract over its WebSocket, as the web UI uses it (`serveUrl` carries `?token=`). */
export async function openContractSocket(serveUrl: string): Promise<ContractSocket> {
  const url = new URL(serveUrl);
  const socket = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token') ?? ''}`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as { type: string; id?: number; ok?: boolean; result?: unknown; error?: unknown };
    if (message.type !== 'response' || message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.result);
    else waiter?.reject(Object.assign(new Error(JSON.stringify(message.error)), message.error as object));
  });
  // The host may die under a crash point: every waiting call fails instead of hanging.
  socket.on('close', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('the contract socket closed'));
    pending.clear();
  });
  const call = <T,>(channel: string, input: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      socket.send(JSON.stringify({ type: 'request', id, channel, input }));
    });
  return {
    call,
    async job(channel, input, timeoutMs = 60_000) {
      const started = await call<JobRecord>(channel, input);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const record = await call<JobRecord>('jobs.get', { id: started.id });
        if (!['queued', 'running'].includes(record.status)) return record;
        if (Date.now() > deadline) throw new Error(`${channel} job ${started.id} did not end in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => socket.close(),
  };
}
