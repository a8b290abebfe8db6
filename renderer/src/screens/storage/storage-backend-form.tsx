import { useState, type FormEvent } from 'react';
import type { StorageBackendConfigInput, StorageSecretName } from '../../../../shared/domain/storage';
import { useStorageStore } from '../../stores/storage-store';

type Kind = StorageBackendConfigInput['kind'];

const emptyForm = {
  kind: 's3' as Kind,
  id: '',
  label: '',
  path: '',
  bucket: '',
  prefix: '',
  region: 'us-east-1',
  endpoint: '',
  forcePathStyle: true,
  streamedChecksums: false,
  partSizeMiB: '16',
  concurrency: '4',
  storageClass: '',
  serverSideEncryption: '',
  account: '',
  container: '',
  accessTier: '',
  secrets: {} as Partial<Record<StorageSecretName, string>>,
};

const secretFields: Record<Kind, Array<{ name: StorageSecretName; label: string }>> = {
  local: [],
  s3: [
    { name: 'accessKeyId', label: 'Access key id' },
    { name: 'secretAccessKey', label: 'Secret access key' },
  ],
  azure: [
    { name: 'accountKey', label: 'Account key (or a SAS token below)' },
    { name: 'sasToken', label: 'SAS token' },
  ],
  gcs: [
    { name: 'hmacAccessKey', label: 'HMAC access key' },
    { name: 'hmacSecret', label: 'HMAC secret' },
  ],
};

/** Adds or updates a backend. Keys go to the secret store (masked here, never shown again). */
export function StorageBackendForm() {
  const save = useStorageStore((state) => state.save);
  const [form, setForm] = useState(emptyForm);
  const [formError, setFormError] = useState<string | null>(null);
  const set = (patch: Partial<typeof emptyForm>): void => setForm({ ...form, ...patch });

  const toConfig = (): StorageBackendConfigInput => {
    const common = { id: form.id, label: form.label.trim() };
    const numbers = { partSizeMiB: Number(form.partSizeMiB), concurrency: Number(form.concurrency) };
    switch (form.kind) {
      case 'local':
        return { ...common, kind: 'local', path: form.path.trim() };
      case 's3':
        return {
          ...common,
          kind: 's3',
          bucket: form.bucket.trim(),
          prefix: form.prefix.trim(),
          region: form.region.trim() || 'us-east-1',
          endpoint: form.endpoint.trim() || null,
          forcePathStyle: form.forcePathStyle,
          streamedChecksums: form.streamedChecksums,
          storageClass: form.storageClass.trim() || null,
          serverSideEncryption: form.serverSideEncryption === 'AES256' || form.serverSideEncryption === 'aws:kms' ? form.serverSideEncryption : null,
          ...numbers,
        };
      case 'azure':
        return {
          ...common,
          kind: 'azure',
          account: form.account.trim(),
          container: form.container.trim(),
          prefix: form.prefix.trim(),
          endpoint: form.endpoint.trim() || null,
          accessTier: form.accessTier === 'Hot' || form.accessTier === 'Cool' || form.accessTier === 'Cold' || form.accessTier === 'Archive' ? form.accessTier : null,
          concurrency: numbers.concurrency,
        };
      case 'gcs':
        return { ...common, kind: 'gcs', bucket: form.bucket.trim(), prefix: form.prefix.trim(), ...numbers };
    }
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(form.id) || form.id === 'local') return setFormError('Id: lowercase letters, digits and -, not "local".');
    if (form.label.trim() === '') return setFormError('Give the backend a name.');
    setFormError(null);
    const secrets = Object.fromEntries(Object.entries(form.secrets).filter(([, value]) => value !== '')) as Partial<Record<StorageSecretName, string>>;
    if (await save(toConfig(), secrets)) setForm(emptyForm);
  };

  return (
    <form className="form card" onSubmit={(event) => void submit(event)} noValidate data-testid="storage-backend-form">
      <h2>Add or update a backend</h2>
      <div className="grid-3">
        <label className="field">
          <span>Kind</span>
          <select value={form.kind} onChange={(event) => set({ kind: event.target.value as Kind, secrets: {} })}>
            <option value="s3">S3 or S3-compatible (AWS, MinIO, Ceph, R2)</option>
            <option value="azure">Azure Blob</option>
            <option value="gcs">Google Cloud Storage</option>
            <option value="local">Local folder</option>
          </select>
        </label>
        <label className="field">
          <span>Id</span>
          <input value={form.id} onChange={(event) => set({ id: event.target.value })} placeholder="lab-minio" />
        </label>
        <label className="field">
          <span>Name</span>
          <input value={form.label} onChange={(event) => set({ label: event.target.value })} placeholder="Lab MinIO" />
        </label>
      </div>
      {form.kind === 'gcs' ? (
        <p className="muted">GCS is reached through its S3-compatible XML API (storage.googleapis.com) with HMAC keys, so no extra SDK is needed.</p>
      ) : null}
      {form.kind === 'local' ? (
        <label className="field">
          <span>Folder (absolute path)</span>
          <input value={form.path} onChange={(event) => set({ path: event.target.value })} placeholder="/srv/depot-blobs" />
        </label>
      ) : null}
      {form.kind === 's3' || form.kind === 'gcs' ? (
        <div className="grid-3">
          <label className="field">
            <span>Bucket</span>
            <input value={form.bucket} onChange={(event) => set({ bucket: event.target.value })} />
          </label>
          <label className="field">
            <span>Prefix</span>
            <input value={form.prefix} onChange={(event) => set({ prefix: event.target.value })} placeholder="team/models" />
          </label>
          <label className="field">
            <span>Part size (MiB) × concurrency</span>
            <div className="row">
              <input value={form.partSizeMiB} onChange={(event) => set({ partSizeMiB: event.target.value })} inputMode="numeric" aria-label="Part size in MiB" />
              <input value={form.concurrency} onChange={(event) => set({ concurrency: event.target.value })} inputMode="numeric" aria-label="Concurrency" />
            </div>
          </label>
        </div>
      ) : null}
      {form.kind === 's3' ? (
        <div className="grid-3">
          <label className="field">
            <span>Endpoint (empty for AWS)</span>
            <input value={form.endpoint} onChange={(event) => set({ endpoint: event.target.value })} placeholder="http://127.0.0.1:9000" />
          </label>
          <label className="field">
            <span>Region</span>
            <input value={form.region} onChange={(event) => set({ region: event.target.value })} />
          </label>
          <label className="field">
            <span>Storage class · encryption</span>
            <div className="row">
              <input value={form.storageClass} onChange={(event) => set({ storageClass: event.target.value })} placeholder="STANDARD" aria-label="Storage class" />
              <select value={form.serverSideEncryption} onChange={(event) => set({ serverSideEncryption: event.target.value })} aria-label="Server-side encryption">
                <option value="">no SSE</option>
                <option value="AES256">SSE-S3 (AES256)</option>
                <option value="aws:kms">SSE-KMS</option>
              </select>
            </div>
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={form.forcePathStyle} onChange={(event) => set({ forcePathStyle: event.target.checked })} /> Path-style addressing
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={form.streamedChecksums} onChange={(event) => set({ streamedChecksums: event.target.checked })} /> Streamed checksums (off for servers that reject them)
          </label>
        </div>
      ) : null}
      {form.kind === 'azure' ? (
        <div className="grid-3">
          <label className="field">
            <span>Account</span>
            <input value={form.account} onChange={(event) => set({ account: event.target.value })} />
          </label>
          <label className="field">
            <span>Container</span>
            <input value={form.container} onChange={(event) => set({ container: event.target.value })} />
          </label>
          <label className="field">
            <span>Prefix</span>
            <input value={form.prefix} onChange={(event) => set({ prefix: event.target.value })} />
          </label>
          <label className="field">
            <span>Endpoint (empty for Azure)</span>
            <input value={form.endpoint} onChange={(event) => set({ endpoint: event.target.value })} placeholder="http://127.0.0.1:10000/devstoreaccount1" />
          </label>
          <label className="field">
            <span>Access tier</span>
            <select value={form.accessTier} onChange={(event) => set({ accessTier: event.target.value })}>
              <option value="">account default</option>
              <option value="Hot">Hot</option>
              <option value="Cool">Cool</option>
              <option value="Cold">Cold</option>
              <option value="Archive">Archive</option>
            </select>
          </label>
        </div>
      ) : null}
      {secretFields[form.kind].length > 0 ? (
        <div className="grid-2">
          {secretFields[form.kind].map((field) => (
            <label className="field" key={field.name}>
              <span>{field.label} — kept in the OS keychain or a 0600 file, never shown again; empty keeps the stored one</span>
              <input
                type="password"
                autoComplete="off"
                value={form.secrets[field.name] ?? ''}
                onChange={(event) => set({ secrets: { ...form.secrets, [field.name]: event.target.value } })}
              />
            </label>
          ))}
        </div>
      ) : null}
      {formError ? (
        <p className="error-text" role="alert">
          {formError}
        </p>
      ) : null}
      <button type="submit" className="button secondary">
        Save backend
      </button>
    </form>
  );
}
