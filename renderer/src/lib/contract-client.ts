import {
  eventChannels,
  requestChannels,
  type EventName,
  type EventPayload,
  type RequestChannel,
  type RequestInput,
  type RequestOutput,
} from '../../../shared/contract/channels';
import { desktopBridgeKey, type DesktopBridge } from '../../../shared/contract/wire';
import type { ErrorCode } from '../../../shared/errors';
import { createDesktopTransport } from './transports/desktop-transport';
import { createWebSocketTransport } from './transports/websocket-transport';
import type { ConnectionState, Transport } from './transports/transport';

export class ContractClientError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContractClientError';
  }
}

/** The renderer's only way to the core: typed by the contract, results checked by its schemas. */
export class ContractClient {
  constructor(readonly transport: Transport) {}

  async request<C extends RequestChannel>(channel: C, input: RequestInput<C>): Promise<RequestOutput<C>> {
    const response = await this.transport.invoke(channel, input);
    if (!response.ok) throw new ContractClientError(response.error.code, response.error.message);
    const checked = requestChannels[channel].output.safeParse(response.result);
    if (!checked.success) throw new ContractClientError('INTERNAL', `The core answered ${channel} outside the contract.`);
    return checked.data as RequestOutput<C>;
  }

  onEvent<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void {
    return this.transport.onEvent((event, payload) => {
      if (event !== name) return;
      const checked = eventChannels[name].safeParse(payload);
      if (checked.success) listener(checked.data as EventPayload<E>);
    });
  }

  onConnectionChange(listener: (state: ConnectionState) => void): () => void {
    return this.transport.onConnectionChange(listener);
  }
}

const tokenStorageKey = 'torsh-depot.session-token';

/** The page's session token: from the URL the host printed, kept for reloads of this tab. */
export function sessionToken(): string | null {
  const params = new URLSearchParams(window.location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(tokenStorageKey, fromUrl);
    // Out of the address bar, history, bookmarks and screen shares: the tab keeps it in sessionStorage.
    params.delete('token');
    const query = params.toString();
    window.history.replaceState(window.history.state, '', `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`);
    return fromUrl;
  }
  return sessionStorage.getItem(tokenStorageKey);
}

/** The preload's bridge in the desktop app; undefined in a browser. */
export function desktopBridge(): DesktopBridge | undefined {
  return (window as unknown as Record<string, DesktopBridge | undefined>)[desktopBridgeKey];
}

export function createClient(): ContractClient | null {
  const bridge = desktopBridge();
  if (bridge) return new ContractClient(createDesktopTransport(bridge));
  const token = sessionToken();
  if (!token) return null;
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const query = `token=${encodeURIComponent(token)}`;
  return new ContractClient(
    createWebSocketTransport({ url: `${scheme}://${window.location.host}/ws?${query}`, probeUrl: `${window.location.origin}/?${query}` }),
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof ContractClientError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
