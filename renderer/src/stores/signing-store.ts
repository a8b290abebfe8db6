import { create } from 'zustand';
import type { SigningKeyView, TrustedKeyView } from '../../../shared/domain/signing';
import { requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';

interface SigningStore {
  keys: SigningKeyView[];
  trusted: TrustedKeyView[];
  /** The public key text last exported, shown for copying. */
  exported: { keyId: string; publicKey: string } | null;
  rotationJobId: string | null;
  error: string | null;
  refresh(): Promise<void>;
  generate(label: string): Promise<boolean>;
  exportKey(keyId: string): Promise<void>;
  retireKey(keyId: string): Promise<void>;
  trust(publicKey: string, label: string): Promise<boolean>;
  retireTrusted(keyId: string): Promise<void>;
  removeTrusted(keyId: string): Promise<void>;
  signAllVersions(keyId: string, retireKeyId: string | null): Promise<void>;
}

export const useSigningStore = create<SigningStore>((set, get) => {
  /** Runs one contract call; any error lands in `error` instead of escaping. */
  const attempt = async (work: () => Promise<void>): Promise<boolean> => {
    try {
      await work();
      set({ error: null });
      return true;
    } catch (error) {
      set({ error: errorMessage(error) });
      return false;
    }
  };
  return {
    keys: [],
    trusted: [],
    exported: null,
    rotationJobId: null,
    error: null,
    refresh: async () => {
      await attempt(async () => {
        const client = requireClient();
        const [keys, trusted] = await Promise.all([client.request('signing.keys.list', {}), client.request('signing.trust.list', {})]);
        set({ keys, trusted });
      });
    },
    generate: (label) =>
      attempt(async () => {
        await requireClient().request('signing.keys.generate', { label });
        await get().refresh();
      }),
    exportKey: async (keyId) => {
      await attempt(async () => set({ exported: { keyId, publicKey: (await requireClient().request('signing.keys.export', { keyId })).publicKey } }));
    },
    retireKey: async (keyId) => {
      await attempt(async () => {
        await requireClient().request('signing.keys.retire', { keyId });
        await get().refresh();
      });
    },
    trust: (publicKey, label) => attempt(async () => set({ trusted: await requireClient().request('signing.trust.add', { publicKey, label }) })),
    retireTrusted: async (keyId) => {
      await attempt(async () => set({ trusted: await requireClient().request('signing.trust.retire', { keyId }) }));
    },
    removeTrusted: async (keyId) => {
      await attempt(async () => set({ trusted: await requireClient().request('signing.trust.remove', { keyId }) }));
    },
    signAllVersions: async (keyId, retireKeyId) => {
      await attempt(async () => set({ rotationJobId: (await requireClient().request('signing.signAllVersions', { keyId, retireKeyId })).id }));
    },
  };
});
