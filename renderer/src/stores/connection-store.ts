import { create } from 'zustand';
import type { Health } from '../../../shared/domain/health';
import type { ConnectionState } from '../lib/transports/transport';
import { client } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';

interface ConnectionStore {
  connection: ConnectionState;
  health: Health | null;
  healthError: string | null;
  refreshHealth(): Promise<void>;
}

export const useConnectionStore = create<ConnectionStore>((set) => ({
  connection: client?.transport.connectionState() ?? 'unauthorized',
  health: null,
  healthError: null,
  async refreshHealth() {
    if (!client) return;
    try {
      set({ health: await client.request('app.health', {}), healthError: null });
    } catch (error) {
      set({ healthError: errorMessage(error) });
    }
  },
}));

/** Wires live updates once: connection changes, `health.changed`, and a 5 s poll. */
export function startConnectionUpdates(onReconnect: () => void): () => void {
  if (!client) return () => undefined;
  const store = useConnectionStore.getState();
  void store.refreshHealth();
  const offConnection = client.onConnectionChange((connection) => {
    // While disconnected the last health report describes a host that may be gone: drop it.
    useConnectionStore.setState(connection === 'open' ? { connection } : { connection, health: null });
    if (connection === 'open') {
      void useConnectionStore.getState().refreshHealth();
      onReconnect();
    }
  });
  // The socket may have opened before this subscription: take the state as it is now.
  useConnectionStore.setState({ connection: client.transport.connectionState() });
  const offHealth = client.onEvent('health.changed', (health) => useConnectionStore.setState({ health }));
  // Poll only while connected: reconnecting refreshes anyway, and queued polls would pile up.
  const timer = setInterval(() => {
    if (useConnectionStore.getState().connection === 'open') void useConnectionStore.getState().refreshHealth();
  }, 5_000);
  return () => {
    offConnection();
    offHealth();
    clearInterval(timer);
  };
}
