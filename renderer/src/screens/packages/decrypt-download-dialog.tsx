import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { ExportDecryption } from '../../../../shared/domain/encryption';
import { preparedDownloadSchema, type PackageVersionMetadata } from '../../../../shared/domain/registry';
import { ProgressBar } from '../../components/progress-bar';
import { errorMessage } from '../../lib/contract-client';
import { useJobsStore } from '../../stores/jobs-store';
import { usePackagesStore } from '../../stores/packages-store';

function downloadInBrowser(downloadId: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = `/session/exports/${downloadId}`;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * Save or download an encrypted version: asks for the passphrase or the age identity (pasted or read from
 * a file), then the core decrypts as a job. A wrong key is reported here and the prompt stays open.
 */
export function DecryptDownloadDialog({ detail, target, onClose }: { detail: PackageVersionMetadata; target: 'folder' | 'browser'; onClose: () => void }) {
  const startSave = usePackagesStore((state) => state.startSave);
  const titleId = useId();
  const byPassphrase = detail.encryption?.unlock !== 'recipients';
  const [passphrase, setPassphrase] = useState('');
  const [identity, setIdentity] = useState('');
  const [requestError, setRequestError] = useState<string | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJobsStore((state) => state.jobs.find((candidate) => candidate.id === jobId));
  const handled = useRef<string | null>(null);
  const running = job !== undefined && (job.status === 'queued' || job.status === 'running');
  const jobError = job?.status === 'failed' || job?.status === 'interrupted' ? (job.error?.message ?? 'Saving failed.') : job?.status === 'cancelled' ? 'Cancelled.' : null;
  const succeeded = job?.status === 'succeeded';

  // A finished browser download is fetched once from the host; the link works a single time.
  useEffect(() => {
    if (!job || job.status !== 'succeeded' || handled.current === job.id) return;
    handled.current = job.id;
    if (target === 'browser') {
      const prepared = preparedDownloadSchema.safeParse(job.result);
      if (prepared.success) downloadInBrowser(prepared.data.downloadId, prepared.data.fileName);
    }
    void usePackagesStore.getState().select(detail.name, detail.version);
  }, [job, target, detail.name, detail.version]);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const decrypt: ExportDecryption = byPassphrase ? { passphrase } : { identity };
    if ((byPassphrase ? passphrase : identity.trim()) === '') {
      setRequestError(byPassphrase ? 'Enter the passphrase.' : 'Paste an age identity (AGE-SECRET-KEY-1…) or choose its file.');
      return;
    }
    await start(decrypt);
  };

  /** `undefined` saves the ciphertext as stored (named .torshenc / .age). */
  const start = async (decrypt: ExportDecryption | undefined): Promise<void> => {
    setRequestError(null);
    try {
      const started = await startSave(target, decrypt);
      if (started) setJobId(started.id);
    } catch (error) {
      setRequestError(errorMessage(error));
    }
  };

  const readIdentityFile = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    if (file.size > 64 * 1024) {
      setRequestError(`${file.name} is too large to be an age identity file.`);
      return;
    }
    setIdentity(await file.text());
  };

  const savedPath = succeeded && target === 'folder' ? (job.result as { path?: string } | null)?.path : undefined;
  const error = requestError ?? jobError;
  return (
    <section className="card decrypt-dialog" role="dialog" aria-labelledby={titleId} data-testid="decrypt-dialog">
      <h3 id={titleId}>
        Decrypt {detail.name} {detail.version}
      </h3>
      <form className="form" onSubmit={(event) => void submit(event)} noValidate>
        {byPassphrase ? (
          <label className="field">
            <span>Passphrase</span>
            <input type="password" autoComplete="current-password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} disabled={running} autoFocus />
          </label>
        ) : (
          <>
            <label className="field">
              <span>Age identity</span>
              <textarea rows={3} className="mono" spellCheck={false} value={identity} onChange={(event) => setIdentity(event.target.value)} placeholder="AGE-SECRET-KEY-1…" disabled={running} />
            </label>
            <label className="field">
              <span>Identity file</span>
              <input type="file" onChange={(event) => void readIdentityFile(event.target.files?.[0])} disabled={running} />
            </label>
          </>
        )}
        {error ? (
          <p className="error-text" role="alert" data-testid="decrypt-error">
            {error}
          </p>
        ) : null}
        {running ? <ProgressBar value={job.progress} label="Decrypt progress" /> : null}
        {succeeded ? (
          <p className="success-text" role="status" data-testid="decrypt-done">
            {savedPath ? `Saved to ${savedPath}.` : 'Decrypted: the download has started.'}
          </p>
        ) : null}
        <div className="row">
          <button type="submit" className="button" disabled={running}>
            {target === 'browser' ? 'Decrypt and download' : 'Decrypt and save…'}
          </button>
          {target === 'folder' ? (
            <button type="button" className="button secondary" onClick={() => void start(undefined)} disabled={running}>
              Save encrypted…
            </button>
          ) : null}
          <button type="button" className="button secondary" onClick={onClose}>
            {succeeded ? 'Close' : 'Cancel'}
          </button>
        </div>
      </form>
    </section>
  );
}
