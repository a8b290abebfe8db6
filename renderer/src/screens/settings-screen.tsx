import { useState, type FormEvent } from 'react';
import { dataFolderCheckResultSchema } from '../../../shared/domain/jobs';
import { ScreenHeader } from '../components/screen-header';
import { ProgressBar } from '../components/progress-bar';
import { client } from '../lib/client-instance';
import { formatBytes, formatDuration } from '../lib/format';
import { useConnectionStore } from '../stores/connection-store';
import { isActive, useJobsStore } from '../stores/jobs-store';
import { useSettingsStore } from '../stores/settings-store';
import { CacheSettings } from './cache-settings';
import { RegistriesSettings } from './registries-settings';
import { SigningSettings } from './signing-settings';

export function SettingsScreen() {
  const settings = useSettingsStore((state) => state.settings);
  const settingsError = useSettingsStore((state) => state.error);
  const update = useSettingsStore((state) => state.update);
  const health = useConnectionStore((state) => state.health);
  const jobs = useJobsStore((state) => state.jobs);
  const startJob = useJobsStore((state) => state.start);
  const cancel = useJobsStore((state) => state.cancel);
  const [sizeText, setSizeText] = useState('256');
  const [sizeError, setSizeError] = useState<string | null>(null);
  const [historyText, setHistoryText] = useState<string | null>(null);
  const [permission, setPermission] = useState(() => ('Notification' in window ? Notification.permission : 'unsupported'));

  const checks = jobs.filter((job) => job.kind === 'data-folder-check');
  const latest = checks[0];
  const result = latest?.status === 'succeeded' ? dataFolderCheckResultSchema.safeParse(latest.result) : null;

  const startCheck = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const size = Number(sizeText);
    if (!/^\d+$/.test(sizeText.trim()) || size < 1 || size > 16_384) {
      setSizeError('Enter a whole number of MiB from 1 to 16384.');
      return;
    }
    setSizeError(null);
    await startJob({ kind: 'data-folder-check', params: { sizeMiB: size } });
  };

  const saveHistoryLimit = async (): Promise<void> => {
    if (historyText === null) return;
    const value = Number(historyText);
    if (!/^\d+$/.test(historyText.trim()) || value < 10 || value > 100_000) return;
    if (await update({ jobHistoryLimit: value })) setHistoryText(null);
  };
  const historyInvalid = historyText !== null && (!/^\d+$/.test(historyText.trim()) || Number(historyText) < 10 || Number(historyText) > 100_000);

  return (
    <section className="screen" aria-labelledby="screen-title">
      <ScreenHeader title="Settings" subtitle="Preferences of this installation. Secrets never live here: they go to the OS keychain or a 0600 file." />
      {settingsError ? <p className="error-text" role="alert">{settingsError}</p> : null}
      <div className="grid-2">
        <div className="card">
          <h2>Appearance</h2>
          <fieldset className="segmented" aria-label="Theme">
            {(['system', 'light', 'dark'] as const).map((theme) => (
              <label key={theme} className={settings?.theme === theme ? 'selected' : ''}>
                <input type="radio" name="theme" value={theme} checked={settings?.theme === theme} onChange={() => void update({ theme })} data-testid={`theme-${theme}`} />
                {theme[0]?.toUpperCase()}
                {theme.slice(1)}
              </label>
            ))}
          </fieldset>
          <h2>Notifications</h2>
          <label className="checkbox">
            <input type="checkbox" checked={settings?.notifications ?? true} onChange={(event) => void update({ notifications: event.target.checked })} data-testid="notifications-toggle" />
            Notify me when long jobs finish or fail
          </label>
          {client?.transport.kind === 'websocket' && permission !== 'unsupported' ? (
            <p className="muted">
              Browser notifications: {permission}.{' '}
              {permission === 'default' ? (
                <button type="button" className="link-button" onClick={() => void Notification.requestPermission().then(setPermission)}>
                  Allow browser notifications
                </button>
              ) : null}
            </p>
          ) : null}
          <h2>Job history</h2>
          <label className="field">
            <span>Finished jobs to keep</span>
            <input
              inputMode="numeric"
              value={historyText ?? String(settings?.jobHistoryLimit ?? '')}
              onChange={(event) => setHistoryText(event.target.value)}
              onBlur={() => void saveHistoryLimit()}
              onKeyDown={(event) => {
                if (event.key === 'Enter') void saveHistoryLimit();
              }}
              data-testid="history-limit"
              aria-invalid={historyInvalid}
            />
          </label>
          {historyInvalid ? <p className="error-text">Enter a whole number from 10 to 100000.</p> : null}
        </div>
        <div className="card">
          <h2>Data folder</h2>
          <dl className="facts">
            <dt>Location</dt>
            <dd data-testid="data-dir">{health?.dataDir ?? '—'}</dd>
            <dt>Database</dt>
            <dd>{health ? formatBytes(health.databaseBytes) : '—'}</dd>
            <dt>Host</dt>
            <dd>{health ? `${health.shell} · v${health.version} · up ${formatDuration(health.uptimeSeconds)}` : '—'}</dd>
          </dl>
          <h2>Check data folder</h2>
          <p className="muted">Runs SQLite&apos;s integrity check, then writes, syncs and reads back test data to measure the disk and prove it returns what it stored.</p>
          <form className="row" onSubmit={(event) => void startCheck(event)} noValidate>
            <label className="field inline">
              <span>Test size (MiB)</span>
              <input inputMode="numeric" value={sizeText} onChange={(event) => setSizeText(event.target.value)} aria-invalid={sizeError !== null} data-testid="check-size" />
            </label>
            <button type="submit" className="button" data-testid="start-check">
              Check data folder
            </button>
          </form>
          {sizeError ? (
            <p className="error-text" role="alert" data-testid="check-size-error">
              {sizeError}
            </p>
          ) : null}
          {latest && isActive(latest) ? (
            <div className="row" data-testid="check-progress">
              <ProgressBar value={latest.progress} label="Data folder check progress" />
              <span className="muted">{latest.message}</span>
              <button type="button" className="link-button" onClick={() => void cancel(latest.id)}>
                Cancel
              </button>
            </div>
          ) : null}
          {result?.success ? (
            <dl className="facts" data-testid="check-result">
              <dt>Database</dt>
              <dd>{result.data.databaseIntegrity === 'ok' ? 'Integrity ok' : result.data.databaseIntegrity}</dd>
              <dt>Write</dt>
              <dd>{formatBytes(result.data.writeBytesPerSecond)}/s</dd>
              <dt>Read</dt>
              <dd>{formatBytes(result.data.readBytesPerSecond)}/s</dd>
              <dt>Free space</dt>
              <dd>{result.data.freeBytes === null ? 'unknown' : formatBytes(result.data.freeBytes)}</dd>
            </dl>
          ) : null}
          {latest && (latest.status === 'failed' || latest.status === 'interrupted') ? <p className="error-text">{latest.error?.message}</p> : null}
        </div>
      </div>
      <div className="grid-2">
        <RegistriesSettings />
        <SigningSettings />
        <CacheSettings />
      </div>
    </section>
  );
}
