import { serverMessageSchema, type ResponseResult } from '../../../../shared/contract/wire';
import type { ConnectionState, Transport } from './transport';

interface Pending {
  resolve: (result: ResponseResult) => void;
  timer: ReturnType<typeof setTimeout>;
}

const requestTimeoutMs = 60_000;
const maxBackoffMs = 10_000;

export interface WebSocketTransportOptions {
  /** `ws(s)://host/ws?token=…` */
  url: string;
  /**
   * An HTTP URL carrying the same token. Browsers hide why a WebSocket upgrade failed, so after a
   * refused connection this tells "host down" (network error) from "token no longer valid" (401).
   */
  probeUrl?: string;
}

/**
 * The browser UI of `torsh-depot serve`: the contract over `/ws?token=…`, reconnecting with
 * backoff when the host restarts. Requests made while disconnected wait for the connection.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): Transport {
  const eventListeners = new Set<(event: string, payload: unknown) => void>();
  const stateListeners = new Set<(state: ConnectionState) => void>();
  const pending = new Map<number, Pending>();
  const queue = new Map<number, string>();
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

  const settle = (id: number, result: ResponseResult): void => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    queue.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(result);
  };

  /** true: token accepted; false: refused (401); null: the host did not answer at all. */
  const probeToken = async (): Promise<boolean | null> => {
    if (!options.probeUrl) return null;
    try {
      // credentials: 'omit' so only the token in the URL counts, never an older session cookie.
      const response = await fetch(options.probeUrl, { method: 'HEAD', cache: 'no-store', credentials: 'omit' });
      return response.status !== 401;
    } catch {
      return null;
    }
  };

  const scheduleReconnect = (): void => {
    attempt += 1;
    const delay = Math.min(maxBackoffMs, 250 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
    setTimeout(connect, delay);
  };

  function connect(): void {
    const ws = new WebSocket(options.url);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      everOpened = true;
      attempt = 0;
      setState('open');
      for (const [id, text] of queue) {
        ws.send(text);
        queue.delete(id);
      }
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
      settle(value.id, value.ok ? { ok: true, result: value.result } : { ok: false, error: value.error });
    };
    ws.onclose = () => {
      socket = null;
      // Requests in flight are lost with the socket: fail them clearly rather than hang.
      for (const id of pending.keys()) {
        if (!queue.has(id)) settle(id, { ok: false, error: { code: 'UNAVAILABLE', message: 'Connection to the host was lost.' } });
      }
      setState(everOpened ? 'reconnecting' : 'connecting');
      if (opened) {
        scheduleReconnect();
        return;
      }
      // Refused before opening: a host that restarted answers the old token with 401, and no retry helps.
      void probeToken().then((accepted) => {
        if (accepted === false) {
          setState('unauthorized');
          for (const id of pending.keys()) settle(id, { ok: false, error: { code: 'UNAUTHORIZED', message: 'This page’s session token is no longer valid.' } });
          return;
        }
        scheduleReconnect();
      });
    };
  }
  connect();

  return {
    kind: 'websocket',
    invoke(channel, input) {
      const id = nextId;
      nextId += 1;
      const text = JSON.stringify({ type: 'request', id, channel, input });
      return new Promise<ResponseResult>((resolve) => {
        if (state === 'unauthorized') {
          resolve({ ok: false, error: { code: 'UNAUTHORIZED', message: 'This page’s session token is no longer valid.' } });
          return;
        }
        const timer = setTimeout(() => settle(id, { ok: false, error: { code: 'UNAVAILABLE', message: `No answer from the host for ${channel}.` } }), requestTimeoutMs);
        pending.set(id, { resolve, timer });
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
        else queue.set(id, text);
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
