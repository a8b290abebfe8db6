import { Fragment, useEffect, useState, type FormEvent } from 'react';
import { ScreenHeader } from '../../components/screen-header';
import { ProgressBar } from '../../components/progress-bar';
import { formatBytes, formatTime } from '../../lib/format';
import { useJobsStore } from '../../stores/jobs-store';
import { useStorageStore } from '../../stores/storage-store';
import { StorageBackendForm } from './storage-backend-form';
import { GarbageCollectionCard } from './garbage-collection-card';

/** Storage backends: status, usage, a paginated key browser, multi-backend copies and statistics. */
export function StorageScreen() {
  const { backends, stats, error, testResults, usage, refresh, test, loadUsage, remove, browse, blobSettings, loadBlobSettings, updateBlobSettings } = useStorageStore();
  const browser = useStorageStore((state) => state.browser);

  useEffect(() => {
    void refresh();
    void loadBlobSettings();
  }, [refresh, loadBlobSettings]);
  const runningBlobStore = backends.find((backend) => backend.isBlobStore);

  return (
    <section className="screen storage-screen" aria-labelledby="screen-title" data-testid="storage-screen">
      <ScreenHeader title="Storage" subtitle="Where package bytes live: the data folder, S3-compatible clusters, Azure Blob and GCS." />
      {error ? (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="card">
        <h2>Backends</h2>
        <ul className="plain">
          {backends.map((backend) => {
            const used = usage[backend.id];
            const result = testResults[backend.id];
            return (
              <li key={backend.id} className="registry-row" data-testid="storage-backend-row">
                <div>
                  <strong>{backend.label}</strong> <span className="tag">{backend.kind}</span>{' '}
                  {backend.isBlobStore ? <span className="badge badge-succeeded">registry blobs</span> : null}
                  <div className="muted mono">{backend.description}</div>
                  {backend.secretsSet.length > 0 ? <div className="muted">keys stored: {backend.secretsSet.join(', ')}</div> : null}
                  {result ? <div className={result.ok ? 'success-text' : 'error-text'}>{result.message}</div> : null}
                  {used === 'loading' ? <div className="muted">Counting…</div> : null}
                  {used && used !== 'loading' && 'error' in used ? <div className="error-text">{used.error}</div> : null}
                  {used && used !== 'loading' && 'objects' in used ? (
                    <div data-testid="storage-usage">
                      {used.objects} objects · {formatBytes(used.bytes)}
                      {used.capacityBytes !== null ? ` of ${formatBytes(used.capacityBytes)} disk` : ''}
                    </div>
                  ) : null}
                </div>
                <div className="row">
                  <button type="button" className="link-button" onClick={() => void test(backend.id)}>
                    Test connection
                  </button>
                  <button type="button" className="link-button" onClick={() => void loadUsage(backend.id)}>
                    Usage
                  </button>
                  <button type="button" className="link-button" onClick={() => void browse(backend.id, backend.builtIn ? 'blobs/' : '')}>
                    Browse
                  </button>
                  {!backend.builtIn ? (
                    <button type="button" className="link-button" onClick={() => void remove(backend.id)}>
                      Remove
                    </button>
                  ) : null}
                </div>
              </li>
            );
          })}
        </ul>
      </div>
      {blobSettings ? (
        <div className="card" data-testid="storage-blob-settings">
          <h2>Registry blobs</h2>
          <p className="muted">
            Now on: {runningBlobStore ? `${runningBlobStore.label} (${runningBlobStore.description})` : 'a store given on the command line'}. Blobs are stored under
            <span className="mono"> blobs/sha256/&lt;digest&gt;</span>.
          </p>
          <div className="row">
            <label className="field">
              <span>Store new and existing blobs on (takes effect at the next start; existing blobs are not moved)</span>
              <select value={blobSettings.blobStoreBackendId} onChange={(event) => void updateBlobSettings({ blobStoreBackendId: event.target.value })}>
                {backends.map((backend) => (
                  <option key={backend.id} value={backend.id}>
                    {backend.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="checkbox">
              <input type="checkbox" checked={blobSettings.presignedDownloads} onChange={(event) => void updateBlobSettings({ presignedDownloads: event.target.checked })} /> Redirect
              registry downloads to presigned URLs (S3, GCS, Azure with an account key)
            </label>
          </div>
        </div>
      ) : null}
      <GarbageCollectionCard />
      {browser ? <KeyBrowser /> : null}
      <StatsTable stats={stats} />
      <StorageBackendForm />
    </section>
  );
}

function KeyBrowser() {
  const { backends, browse, nextPage, previousPage, select, copy, refresh } = useStorageStore();
  const browser = useStorageStore((state) => state.browser);
  const jobs = useJobsStore((state) => state.jobs);
  const [prefix, setPrefix] = useState(browser?.prefix ?? '');
  const [targets, setTargets] = useState<string[]>([]);
  const [copyJobId, setCopyJobId] = useState<string | null>(null);
  if (!browser) return null;
  const source = backends.find((backend) => backend.id === browser.backendId);
  const copyJob = copyJobId ? jobs.find((job) => job.id === copyJobId) : undefined;

  const submitPrefix = (event: FormEvent): void => {
    event.preventDefault();
    void browse(browser.backendId, prefix);
  };
  const startCopy = async (): Promise<void> => {
    if (!browser.selected || targets.length === 0) return;
    setCopyJobId(await copy(browser.selected.key, targets));
  };

  return (
    <div className="card" data-testid="storage-browser">
      <h2>Keys in {source?.label ?? browser.backendId}</h2>
      <form className="row" onSubmit={submitPrefix}>
        <input className="search-input" value={prefix} onChange={(event) => setPrefix(event.target.value)} placeholder="prefix, e.g. blobs/sha256/" aria-label="Key prefix" />
        <button type="submit" className="button secondary">
          List
        </button>
      </form>
      <table className="table">
        <thead>
          <tr>
            <th>Key</th>
            <th>Size</th>
            <th>Modified</th>
          </tr>
        </thead>
        <tbody>
          {browser.objects.map((object) => (
            <tr key={object.key} data-testid="storage-key-row">
              <td className="mono">
                <button type="button" className="link-button" onClick={() => void select(object.key)}>
                  {object.key}
                </button>
              </td>
              <td>{formatBytes(object.size)}</td>
              <td>{formatTime(object.lastModified)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {browser.loading ? <p className="muted">Loading…</p> : null}
      {!browser.loading && browser.objects.length === 0 ? <p className="empty">No keys under this prefix.</p> : null}
      <div className="row">
        <button type="button" className="button secondary" disabled={browser.cursors.length < 2 || browser.loading} onClick={() => void previousPage()}>
          Previous
        </button>
        <span className="muted">page {browser.cursors.length}</span>
        <button type="button" className="button secondary" disabled={!browser.nextCursor || browser.loading} onClick={() => void nextPage()}>
          Next
        </button>
      </div>
      {browser.selected ? (
        <div className="card" data-testid="storage-object-detail">
          <h3 className="mono">{browser.selected.key}</h3>
          <dl className="facts">
            <dt>Size</dt>
            <dd>{formatBytes(browser.selected.size)}</dd>
            <dt>ETag</dt>
            <dd className="mono">{browser.selected.etag ?? '—'}</dd>
            <dt>Content type</dt>
            <dd>{browser.selected.contentType ?? '—'}</dd>
            <dt>Cache-Control</dt>
            <dd>{browser.selected.cacheControl ?? '—'}</dd>
            {Object.entries(browser.selected.metadata).map(([name, value]) => (
              <Fragment key={name}>
                <dt>{name}</dt>
                <dd className="mono">{value}</dd>
              </Fragment>
            ))}
          </dl>
          <fieldset>
            <legend>Copy to</legend>
            {backends
              .filter((backend) => backend.id !== browser.backendId)
              .map((backend) => (
                <label key={backend.id} className="checkbox">
                  <input
                    type="checkbox"
                    checked={targets.includes(backend.id)}
                    onChange={(event) => setTargets(event.target.checked ? [...targets, backend.id] : targets.filter((id) => id !== backend.id))}
                  />{' '}
                  {backend.label}
                </label>
              ))}
          </fieldset>
          <button type="button" className="button" disabled={targets.length === 0} onClick={() => void startCopy()}>
            Copy
          </button>
          {copyJob ? (
            <div data-testid="storage-copy-status">
              <ProgressBar value={copyJob.progress} label={copyJob.title} />
              {copyJob.status === 'succeeded' ? <p className="success-text">Copied to every chosen backend.</p> : null}
              {copyJob.status === 'failed' ? <p className="error-text">{copyJob.error?.message}</p> : null}
              {copyJob.status === 'succeeded' || copyJob.status === 'failed' ? (
                <button type="button" className="link-button" onClick={() => void refresh()}>
                  Refresh statistics
                </button>
              ) : null}
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function StatsTable({ stats }: { stats: ReturnType<typeof useStorageStore.getState>['stats'] }) {
  return (
    <div className="card" data-testid="storage-stats">
      <h2>Statistics</h2>
      {stats.length === 0 ? (
        <p className="empty">No storage calls yet.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Backend</th>
              <th>Gets</th>
              <th>Puts</th>
              <th>Deletes</th>
              <th>Read</th>
              <th>Written</th>
              <th>Errors</th>
              <th>Retries</th>
              <th>Avg latency</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {stats.map((row) => (
              <tr key={row.backendId}>
                <td>{row.backendId}</td>
                <td>{row.gets}</td>
                <td>{row.puts}</td>
                <td>{row.deletes}</td>
                <td>{formatBytes(row.bytesRead)}</td>
                <td>{formatBytes(row.bytesWritten)}</td>
                <td>{row.errors}</td>
                <td>{row.retries}</td>
                <td>{row.averageLatencyMs === null ? '—' : `${row.averageLatencyMs} ms`}</td>
                <td className="muted">{row.lastError ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
