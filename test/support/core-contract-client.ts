import type { Core } from '../../electron/services/composition-root';
import { ContractClient } from '../../renderer/src/lib/contract-client';
import type { Transport } from '../../renderer/src/lib/transports/transport';

/** The renderer's contract client over a core's own router, as the desktop preload would carry it (store tests). */
export function contractClientOf(core: Core): ContractClient {
  const transport: Transport = {
    kind: 'desktop',
    invoke: (channel, input) => core.router.dispatch(channel, input, { origin: 'test' }),
    onEvent: () => () => undefined,
    onConnectionChange: () => () => undefined,
    connectionState: () => 'open',
  };
  return new ContractClient(transport);
}
