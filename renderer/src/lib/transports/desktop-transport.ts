import type { DesktopBridge } from '../../../../shared/contract/wire';
import type { ConnectionState, Transport } from './transport';

/** The desktop app: the sandboxed preload's bridge, always connected. */
export function createDesktopTransport(bridge: DesktopBridge): Transport {
  return {
    kind: 'desktop',
    invoke: (channel, input) => bridge.invoke(channel, input),
    onEvent: (listener) => bridge.onEvent(listener),
    onConnectionChange: () => () => undefined,
    connectionState: (): ConnectionState => 'open',
  };
}
