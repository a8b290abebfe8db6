import { useEffect, useState } from 'react';
import { useSigningStore } from '../../stores/signing-store';

const rememberedKey = 'torsh-depot.signOnPublishKeyId';

/** The key chosen for signing on publish, remembered across drops (a publisher signs everything or nothing). */
export function useSignOnPublishKey(): [string | null, (keyId: string | null) => void] {
  const keys = useSigningStore((state) => state.keys);
  const [chosen, setChosen] = useState<string | null>(() => window.localStorage.getItem(rememberedKey));
  useEffect(() => {
    void useSigningStore.getState().refresh();
  }, []);
  // A remembered key that was retired (or deleted) since is not offered, nor silently used.
  const usable = chosen !== null && keys.some((key) => key.keyId === chosen && key.retiredAt === null) ? chosen : null;
  const choose = (keyId: string | null): void => {
    if (keyId === null) window.localStorage.removeItem(rememberedKey);
    else window.localStorage.setItem(rememberedKey, keyId);
    setChosen(keyId);
  };
  return [usable, choose];
}

/** "Sign with": none, or one of this install's active keys (generate keys under Settings → Signing). */
export function SignOnPublishField({ value, onChange }: { value: string | null; onChange: (keyId: string | null) => void }) {
  const keys = useSigningStore((state) => state.keys);
  const active = keys.filter((key) => key.retiredAt === null);
  return (
    <label className="field">
      <span>Sign with</span>
      <select value={value ?? ''} onChange={(event) => onChange(event.target.value === '' ? null : event.target.value)} data-testid="publish-sign-with">
        <option value="">Don't sign</option>
        {active.map((key) => (
          <option key={key.keyId} value={key.keyId}>
            {key.label} · {key.keyId}
          </option>
        ))}
      </select>
      {active.length === 0 ? <span className="muted">No signing key yet: generate one under Settings → Signing.</span> : null}
    </label>
  );
}
