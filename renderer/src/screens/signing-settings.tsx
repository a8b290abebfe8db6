import { useEffect, useState, type FormEvent } from 'react';
import { useSigningStore } from '../stores/signing-store';
import { useJobsStore } from '../stores/jobs-store';

/** Signing keys (generate, export, retire, rotate) and the publisher keys this install trusts. */
export function SigningSettings() {
  const { keys, trusted, exported, rotationJobId, error, refresh, generate, exportKey, retireKey, trust, retireTrusted, removeTrusted, signAllVersions } = useSigningStore();
  const rotationJob = useJobsStore((state) => state.jobs.find((job) => job.id === rotationJobId) ?? null);
  const [label, setLabel] = useState('');
  const [trustForm, setTrustForm] = useState({ publicKey: '', label: '' });
  const [rotation, setRotation] = useState({ keyId: '', retireKeyId: '' });

  useEffect(() => {
    void refresh();
  }, [refresh]);
  // A finished rotation retires a key: show it.
  useEffect(() => {
    if (rotationJob?.status === 'succeeded') void refresh();
  }, [rotationJob?.status, refresh]);

  const active = keys.filter((key) => key.retiredAt === null);
  const submitKey = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (label.trim() !== '' && (await generate(label.trim()))) setLabel('');
  };
  const submitTrust = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (await trust(trustForm.publicKey, trustForm.label)) setTrustForm({ publicKey: '', label: '' });
  };

  return (
    <div className="card" data-testid="signing-settings">
      <h2>Signing keys &amp; trust</h2>
      <h3>Our signing keys</h3>
      <p className="muted">Ed25519, minisign-compatible. The secret half stays in the OS keychain (or a 0600 file on a headless host).</p>
      <ul className="plain">
        {keys.map((key) => (
          <li key={key.keyId} className="registry-row" data-testid="signing-key-row">
            <div>
              <strong>{key.label}</strong> <span className="mono">{key.keyId}</span>{' '}
              {key.retiredAt ? <span className="badge badge-failed">retired</span> : <span className="badge badge-succeeded">active</span>}
            </div>
            <div className="row">
              <button type="button" className="link-button" onClick={() => void exportKey(key.keyId)}>
                Export public key
              </button>
              {key.retiredAt === null ? (
                <button type="button" className="link-button" onClick={() => void retireKey(key.keyId)}>
                  Retire
                </button>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
      {exported ? (
        <pre className="mono key-text" data-testid="exported-public-key" aria-label={`Public key ${exported.keyId}`}>
          {exported.publicKey}
        </pre>
      ) : null}
      <form className="form row" onSubmit={(event) => void submitKey(event)}>
        <label className="field">
          <span>New key label</span>
          <input value={label} onChange={(event) => setLabel(event.target.value)} placeholder="Release key 2026" data-testid="new-key-label" />
        </label>
        <button type="submit" className="button secondary" disabled={label.trim() === ''}>
          Generate key
        </button>
      </form>

      <h3>Key rotation</h3>
      <form
        className="form row"
        onSubmit={(event) => {
          event.preventDefault();
          if (rotation.keyId !== '') void signAllVersions(rotation.keyId, rotation.retireKeyId === '' ? null : rotation.retireKeyId);
        }}
      >
        <label className="field">
          <span>Sign every version with</span>
          <select value={rotation.keyId} onChange={(event) => setRotation({ ...rotation, keyId: event.target.value })} data-testid="rotation-key">
            <option value="">choose a key</option>
            {active.map((key) => (
              <option key={key.keyId} value={key.keyId}>
                {key.label} ({key.keyId})
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>then retire</span>
          <select value={rotation.retireKeyId} onChange={(event) => setRotation({ ...rotation, retireKeyId: event.target.value })}>
            <option value="">no key</option>
            {active
              .filter((key) => key.keyId !== rotation.keyId)
              .map((key) => (
                <option key={key.keyId} value={key.keyId}>
                  {key.label} ({key.keyId})
                </option>
              ))}
          </select>
        </label>
        <button type="submit" className="button secondary" disabled={rotation.keyId === ''}>
          Sign all versions
        </button>
      </form>
      {rotationJob ? (
        <p data-testid="rotation-status">
          {rotationJob.status === 'running' || rotationJob.status === 'queued' ? `${Math.round((rotationJob.progress ?? 0) * 100)}% · ${rotationJob.message ?? ''}` : `Rotation ${rotationJob.status}`}
        </p>
      ) : null}

      <h3>Trusted publisher keys</h3>
      <ul className="plain">
        {trusted.map((key) => (
          <li key={key.keyId} className="registry-row" data-testid="trusted-key-row">
            <div>
              <strong>{key.label}</strong> <span className="mono">{key.keyId}</span> {key.retiredAt ? <span className="badge badge-failed">retired</span> : null}
            </div>
            <div className="row">
              {key.retiredAt === null ? (
                <button type="button" className="link-button" onClick={() => void retireTrusted(key.keyId)}>
                  Retire
                </button>
              ) : null}
              <button type="button" className="link-button" onClick={() => void removeTrusted(key.keyId)}>
                Remove
              </button>
            </div>
          </li>
        ))}
      </ul>
      <form className="form" onSubmit={(event) => void submitTrust(event)}>
        <label className="field">
          <span>Publisher&apos;s minisign public key</span>
          <textarea
            rows={2}
            className="mono"
            value={trustForm.publicKey}
            onChange={(event) => setTrustForm({ ...trustForm, publicKey: event.target.value })}
            placeholder={'untrusted comment: minisign public key …\nRWQ…'}
            data-testid="trust-public-key"
          />
        </label>
        <label className="field">
          <span>Label</span>
          <input value={trustForm.label} onChange={(event) => setTrustForm({ ...trustForm, label: event.target.value })} data-testid="trust-label" />
        </label>
        <button type="submit" className="button secondary" disabled={trustForm.publicKey.trim() === '' || trustForm.label.trim() === ''}>
          Trust key
        </button>
      </form>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
