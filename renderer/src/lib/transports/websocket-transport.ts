import { serverMessageSchema, type ResponseResult } from '../../../../shared/contract/wire';
import type { ConnectionState, Transport } from './transport';

interface Pending {
  resolve: (result: ResponseResult) => void;
  timer: ReturnType<typeof setTimeout>;
}

const requestTimeoutMs = 60_000;

/**
 * The browser UI of `torsh-depot serve`: the contract over `/ws?token=…`, reconnecting with
 * backoff when the host restarts. Requests made while disconnected wait for the connection.
 */
export function createWebSocketTransport(url: string): Transport {
  const eventListeners = new Set<(event: string, payload: unknown) => void>();
  const stateListeners = new Set<(state: ConnectionState) => void>();
  const pending = new Map<number, Pending>();
  const queue: string[] = [];
  let state: ConnectionState = 'connecting';
  let socket: WebSocket | null = null;
  let nextId = 1;
  let attempt = 0;
  let everOpened = false;

  const setState = (next: ConnectionState): void => {
    if (state === next) return;
    state = next;
    for (const listener of stateListeners) listener(next);
  };

  const connect = (): void => {
    const ws = new WebSocket(url);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      everOpened = true;
      attempt = 0;
      setState('open');
      while (queue.length > 0 && ws.readyState === WebSocket.OPEN) ws.send(queue.shift() as string);
    };
    ws.onmessage = (message: MessageEvent<string>) => {
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      const parsed = serverMessageSchema.safeParse(data);
      if (!parsed.success) return;
      const value = parsed.data;
      if (value.type === 'event') {
        for (const listener of eventListeners) listener(value.event, value.payload);
        return;
      }
      const entry = pending.get(value.id);
      if (!entry) return;
      pending.delete(value.id);
      clearTimeout(entry.timer);
      entry.resolve(value.ok ? { ok: true, result: value.result } : { ok: false, error: value.error });
    };
    ws.onclose = () => {
      socket = null;
      // A socket refused before it ever opened, on the first try, means a bad or missing token.
      if (!opened && !everOpened && attempt >= 2) {
        setState('unauthorized');
      } else {
        setState(everOpened ? 'reconnecting' : 'connecting');
      }
      // Requests in flight are lost with the socket: fail them clearly rather than hang.
      for (const [id, entry] of pending) {
        clearTimeout(entry.timer);
        entry.resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'Connection to the host was lost.' } });
        pending.delete(id);
      }
      attempt += 1;
      const delay = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  };
  connect();

  return {
    kind: 'websocket',
    invoke(channel, input) {
      const id = nextId;
      nextId += 1;
      const text = JSON.stringify({ type: 'request', id, channel, input });
      return new Promise<ResponseResult>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({ ok: false, error: { code: 'UNAVAILABLE', message: `No answer from the host for ${channel}.` } });
        }, requestTimeoutMs);
        pending.set(id, { resolve, timer });
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
        else queue.push(text);
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onConnectionChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    connectionState: () => state,
  };
}
