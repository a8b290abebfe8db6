import type { ResponseResult } from '../../../../shared/contract/wire';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized';

/** How the contract client reaches the core: the desktop preload bridge or the host's WebSocket. */
export interface Transport {
  readonly kind: 'desktop' | 'websocket';
  invoke(channel: string, input: unknown): Promise<ResponseResult>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  connectionState(): ConnectionState;
}
