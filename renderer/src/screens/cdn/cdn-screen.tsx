import { useState, type FormEvent } from 'react';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { cdnProviders, cdnUploadResultSchema, type CdnStatsAnswer } from '../../../../shared/domain/cdn';
import { ProgressBar } from '../../components/progress-bar';
import { ScreenHeader } from '../../components/screen-header';
import { formatBytes, formatDuration } from '../../lib/format';
import { usePolling } from '../../lib/use-polling';
import { useCdnStore } from '../../stores/cdn-store';
import { isActive, useJobsStore } from '../../stores/jobs-store';
import { TimeSeriesChart } from '../metrics/time-series-chart';
import { statusDotClass, statusLabels } from '../mirrors/mirror-status';
import './cdn-screen.css';

/** How often the open screen re-reads edges and statistics (the host probes on its own interval). */
const refreshMs = 5_000;

/** CDN: provider and origin settings, the edges, purges, hit-rate and bytes over time, and "test from region". */
export function CdnScreen() {
  const { config, loaded, error, checking, refresh, checkEdges } = useCdnStore();
  usePolling(refresh, refreshMs);

  return (
    <section className="screen cdn-screen" aria-labelledby="screen-title" data-testid="cdn-screen">
      <ScreenHeader
        title="CDN"
        subtitle="Large packages from the edge nearest each user: the origin, the edges, purges and how often the edges answer from cache."
        actions={
          <button type="button" className="button secondary" disabled={checking || !config?.configured} onClick={() => void checkEdges()}>
            {checking ? 'Checking…' : 'Check edges'}
          </button>
        }
      />
      <p className="notice notice-error" role="alert" hidden={!error}>
        {error}
      </p>
      {!loaded ? (
        <p className="muted" aria-busy="true">
          Loading the CDN…
        </p>
      ) : (
        <>
          {/* Remounted when the saved section changes, so the form shows what is in force. */}
          <SettingsCard key={JSON.stringify(config?.config ?? null)} />
          {config?.configured ? (
            <>
              <EdgeTable />
              <div className="cdn-grid">
                <PurgeCard />
                <RegionTestCard />
                <UploadCard />
              </div>
              <StatsCard />
            </>
          ) : null}
        </>
      )}
    </section>
  );
}

interface SettingsFields {
  provider: string;
  storage: string;
  isPublic: boolean;
  baseUrl: string;
  rest: string;
}

/** The section split for the form: provider and origin as fields, everything else as depot.yaml text. */
function fieldsOf(config: Record<string, unknown> | null): SettingsFields {
  const { provider, origin, ...rest } = config ?? {};
  const originObject = (origin ?? {}) as { storage?: string; public?: boolean; base_url?: string };
  return {
    provider: typeof provider === 'string' ? provider : 'varnish',
    storage: originObject.storage ?? 'registry',
    isPublic: originObject.public ?? true,
    baseUrl: originObject.base_url ?? '',
    rest: Object.keys(rest).length > 0 ? stringifyYaml(rest) : 'edges: []\n',
  };
}

function SettingsCard() {
  const { config, saveConfig } = useCdnStore();
  const [fields, setFields] = useState<SettingsFields>(() => fieldsOf(config?.config ?? null));
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  const onSubmit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setSaved(false);
    let rest: unknown;
    try {
      rest = parseYaml(fields.rest) ?? {};
    } catch (error) {
      setProblem(`The rest of the section is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
      return;
    }
    if (typeof rest !== 'object' || Array.isArray(rest)) {
      setProblem('The rest of the section must be a mapping (edges:, routing:, …).');
      return;
    }
    setSaving(true);
    const origin = { storage: fields.storage.trim(), public: fields.isPublic, ...(fields.baseUrl.trim() ? { base_url: fields.baseUrl.trim() } : {}) };
    const answer = await saveConfig({ ...(rest as Record<string, unknown>), provider: fields.provider, origin });
    setSaving(false);
    setProblem(answer);
    setSaved(answer === null);
  };

  return (
    <form className="card cdn-settings" onSubmit={(event) => void onSubmit(event)} data-testid="cdn-settings">
      <h2>Provider and origin</h2>
      {!config?.configured ? <p className="muted" data-testid="cdn-not-configured">No CDN is configured. Fill this in, or set the cdn: section of depot.yaml.</p> : null}
      <div className="cdn-settings-fields">
        <label>
          provider
          <select value={fields.provider} onChange={(event) => setFields({ ...fields, provider: event.target.value })} data-testid="cdn-provider">
            {cdnProviders.map((provider) => (
              <option key={provider} value={provider}>
                {provider}
              </option>
            ))}
          </select>
        </label>
        <label>
          origin.storage
          <input className="mono" value={fields.storage} onChange={(event) => setFields({ ...fields, storage: event.target.value })} placeholder="registry or s3://bucket/prefix?…" data-testid="cdn-origin-storage" />
        </label>
        <label>
          origin.base_url
          <input className="mono" value={fields.baseUrl} onChange={(event) => setFields({ ...fields, baseUrl: event.target.value })} placeholder="https://cdn.example.com" />
        </label>
        <label className="cdn-checkbox">
          <input type="checkbox" checked={fields.isPublic} onChange={(event) => setFields({ ...fields, isPublic: event.target.checked })} />
          origin.public (private packages need cdn.signed_urls)
        </label>
      </div>
      {config && config.secrets.length > 0 ? (
        <table className="table cdn-secrets" data-testid="cdn-secrets">
          <thead>
            <tr>
              <th scope="col">Secret</th>
              <th scope="col">Reference</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {config.secrets.map((secret) => (
              <tr key={secret.path} data-secret={secret.path}>
                <td className="mono">{secret.path}</td>
                <td className="mono" data-testid="cdn-secret-masked">
                  {secret.masked}
                </td>
                <td className={secret.resolved ? '' : 'error-text'}>{secret.resolved ? 'set' : secret.problem}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <label className="cdn-rest">
        The rest of the section (edges, routing, policies, provider block …), as in depot.yaml — secrets only as {'${ENV}'} or file: references
        <textarea className="mono" rows={10} value={fields.rest} onChange={(event) => setFields({ ...fields, rest: event.target.value })} data-testid="cdn-rest" spellCheck={false} />
      </label>
      <div className="row">
        <button type="submit" className="button" disabled={saving}>
          {saving ? 'Saving…' : 'Save'}
        </button>
        {saved ? <span className="muted">Saved.</span> : null}
      </div>
      <p className="error-text" role="alert" hidden={!problem} data-testid="cdn-settings-error">
        {problem}
      </p>
    </form>
  );
}

function EdgeTable() {
  const { edges } = useCdnStore();
  return (
    <div className="card">
      <h2>Edges</h2>
      {edges.length === 0 ? (
        <p className="muted">No edges listed under cdn.edges.</p>
      ) : (
        <table className="table cdn-edges">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Edge</th>
              <th scope="col">Region</th>
              <th scope="col">Load</th>
              <th scope="col" className="num">
                Latency
              </th>
              <th scope="col" className="num">
                Hit rate
              </th>
              <th scope="col" className="num">
                From cache / origin
              </th>
            </tr>
          </thead>
          <tbody>
            {edges.map((edge) => {
              const status = edge.enabled ? edge.status : 'unknown';
              return (
                <tr key={edge.id} data-testid="cdn-edge-row" data-edge={edge.id} data-status={status}>
                  <td>
                    <span className="mirror-status" title={edge.lastError ?? undefined}>
                      <span className={statusDotClass(status)} aria-hidden="true" />
                      <span data-testid="cdn-edge-status">{edge.enabled ? statusLabels[status] : 'Disabled'}</span>
                    </span>
                  </td>
                  <td>
                    <strong className="mono">{edge.id}</strong>
                    <div className="muted mono">{edge.endpoint}</div>
                  </td>
                  <td className="mono">{edge.region}</td>
                  <td>
                    <div className="cdn-load" title={`${Math.round(edge.load * 100)} % of ${edge.capacityGbps} Gbps (${edge.loadSource === 'edge' ? 'reported by the edge' : 'from our transfer counts'})`} data-load-source={edge.loadSource}>
                      <div className="cdn-load-fill" style={{ width: `${Math.min(100, edge.load * 100)}%` }} />
                    </div>
                    <span className="muted">
                      {Math.round(edge.load * 100)} % of {edge.capacityGbps} Gbps
                    </span>
                  </td>
                  <td className="num">{edge.latencyMs === null ? '—' : `${Math.round(edge.latencyMs)} ms`}</td>
                  <td className="num" data-testid="cdn-edge-hit-rate">
                    {edge.hitRate === null ? '—' : `${Math.round(edge.hitRate * 100)} %`}
                  </td>
                  <td className="num">
                    {formatBytes(edge.edgeBytes)} / {formatBytes(edge.originBytes)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** "Upload to origin": a version's blob, signature and index put on the origin as a job, its progress and the objects written. */
function UploadCard() {
  const { upload, startUpload } = useCdnStore();
  const [spec, setSpec] = useState('');
  const jobId = upload.kind === 'started' ? upload.jobId : null;
  const job = useJobsStore((state) => state.jobs.find((entry) => entry.id === jobId) ?? null);
  const parsed = cdnUploadResultSchema.safeParse(job?.status === 'succeeded' ? job.result : null);
  const at = spec.trim().lastIndexOf('@');
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    if (at > 0) void startUpload(spec.trim().slice(0, at), spec.trim().slice(at + 1));
  };
  const busy = upload.kind === 'starting' || (job !== null && isActive(job));
  return (
    <form className="card" onSubmit={onSubmit} data-testid="cdn-upload">
      <h2>Upload to origin</h2>
      <p className="muted">Puts a version (blob, signature, index) on the origin under its versioned keys; private versions stay off a public origin.</p>
      <div className="inline-form">
        <input className="mono grow" value={spec} onChange={(event) => setSpec(event.target.value)} placeholder="vision/resnet@1.0.0" aria-label="Package to upload (name@version)" data-testid="cdn-upload-target" />
        <button type="submit" className="button" disabled={busy || at <= 0}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </div>
      {upload.kind === 'error' ? (
        <p className="notice notice-error" role="alert" data-testid="cdn-upload-error">
          {upload.message}
        </p>
      ) : null}
      {job ? (
        <div data-testid="cdn-upload-job" data-status={job.status}>
          {isActive(job) ? <ProgressBar value={job.progress} label={job.title} /> : null}
          <p className="muted" data-testid="cdn-upload-status">
            {job.status === 'succeeded' ? `Uploaded ${parsed.success ? parsed.data.objects.length : 0} objects.` : job.status === 'failed' ? `Failed: ${job.error?.message ?? ''}` : job.status === 'cancelled' ? 'Cancelled.' : (job.message ?? `${job.title}…`)}
          </p>
          {parsed.success ? (
            <ul className="cdn-purge-results">
              {parsed.data.objects.map((object) => (
                <li key={object.key} data-testid="cdn-upload-object">
                  <span className="mono">{object.key}</span> · {formatBytes(object.size)} · <span className="mono">{object.cacheControl}</span>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

function PurgeCard() {
  const { purge, runPurge } = useCdnStore();
  const [kind, setKind] = useState<'package' | 'url' | 'tag'>('package');
  const [target, setTarget] = useState('');
  const [soft, setSoft] = useState(false);
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    const text = target.trim();
    if (!text) return;
    if (kind === 'package') {
      const at = text.lastIndexOf('@');
      const name = at > 0 ? text.slice(0, at) : text;
      const version = at > 0 ? text.slice(at + 1) : undefined;
      void runPurge({ package: name, ...(version ? { version } : {}), soft });
    } else {
      const list = text.split(/\s+/).filter(Boolean);
      void runPurge(kind === 'url' ? { urls: list, soft } : { tags: list, soft });
    }
  };
  return (
    <form className="card" onSubmit={onSubmit} data-testid="cdn-purge">
      <h2>Purge</h2>
      <div className="row">
        <select value={kind} onChange={(event) => setKind(event.target.value as typeof kind)} aria-label="Purge by">
          <option value="package">package or name@version</option>
          <option value="url">URLs</option>
          <option value="tag">tags</option>
        </select>
        <input className="mono grow" value={target} onChange={(event) => setTarget(event.target.value)} placeholder={kind === 'package' ? 'vision/resnet@1.0.0' : kind === 'url' ? 'https://…  https://…' : 'torsh-pkg-vision__resnet'} aria-label="Purge target" data-testid="cdn-purge-target" />
      </div>
      <div className="row">
        <label className="cdn-checkbox">
          <input type="checkbox" checked={soft} onChange={(event) => setSoft(event.target.checked)} /> soft (mark stale)
        </label>
        <button type="submit" className="button" disabled={purge.kind === 'running' || !target.trim()}>
          {purge.kind === 'running' ? 'Purging…' : 'Purge'}
        </button>
      </div>
      {purge.kind === 'error' ? (
        <p className="error-text" role="alert">
          {purge.message}
        </p>
      ) : null}
      {purge.kind === 'done' ? (
        <>
          <p className="muted" data-testid="cdn-purge-summary">
            {purge.report.results.filter((result) => result.ok).length} of {purge.report.results.length} purged · {purge.report.apiCalls} API calls via {purge.report.provider}
          </p>
          <ul className="cdn-purge-results">
            {purge.report.results.map((result, index) => (
              <li key={`${result.kind}-${result.target}-${result.via}-${index}`} data-testid="cdn-purge-result" data-ok={result.ok}>
                <span className={result.ok ? 'status-dot ok' : 'status-dot down'} aria-hidden="true" /> {result.kind} <span className="mono">{result.target}</span> via {result.via}
                {result.error ? <span className="error-text"> — {result.error}</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </form>
  );
}

function RegionTestCard() {
  const { regionTest, testRegion } = useCdnStore();
  const [query, setQuery] = useState({ name: '', version: '', region: '', clientIp: '' });
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    if (query.name.trim() && query.version.trim()) void testRegion(query);
  };
  const field = (key: keyof typeof query, label: string, placeholder: string) => (
    <label>
      {label}
      <input className="mono" value={query[key]} onChange={(event) => setQuery({ ...query, [key]: event.target.value })} placeholder={placeholder} data-testid={`cdn-test-${key}`} />
    </label>
  );
  return (
    <form className="card" onSubmit={onSubmit} data-testid="cdn-region-test">
      <h2>Test from a region</h2>
      <div className="cdn-settings-fields">
        {field('name', 'package', 'vision/resnet')}
        {field('version', 'version', '1.0.0')}
        {field('region', 'region', 'eu-west-1 or 48.85,2.35')}
        {field('clientIp', 'or client IP', '203.0.113.7')}
      </div>
      <button type="submit" className="button">
        Choose an edge
      </button>
      {regionTest.kind === 'error' ? (
        <p className="error-text" role="alert">
          {regionTest.message}
        </p>
      ) : null}
      {regionTest.kind === 'ready' ? (
        <div data-testid="cdn-region-answer">
          <p>
            Client region <strong className="mono">{regionTest.answer.clientRegion ?? 'unknown'}</strong> (from {regionTest.answer.regionSource}) →{' '}
            {regionTest.answer.edgeId ? (
              <>
                edge <strong data-testid="cdn-chosen-edge">{regionTest.answer.edgeId}</strong>
              </>
            ) : (
              'no eligible edge'
            )}
          </p>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Edge</th>
                <th scope="col" className="num">
                  Score
                </th>
                <th scope="col">distance + latency + load + bandwidth</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {regionTest.answer.ranking.map((entry) => (
                <tr key={entry.edgeId} data-testid="cdn-score-row" data-edge={entry.edgeId}>
                  <td className="mono">{entry.edgeId}</td>
                  <td className="num">{entry.score ?? '—'}</td>
                  <td className="mono">
                    {entry.parts.distance ?? '–'} + {entry.parts.latency ?? '–'} + {entry.parts.load} + {entry.parts.bandwidth}
                  </td>
                  <td>{entry.eligible ? entry.reason : `not eligible: ${entry.reason}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </form>
  );
}

/** The statistics' series as the chart draws them: one point per bucket. */
function seriesOf(stats: CdnStatsAnswer, value: (entry: CdnStatsAnswer['series'][number]) => number) {
  return { stepMs: stats.bucketSeconds * 1000, points: stats.series.map((entry) => ({ t: Date.parse(entry.at), value: value(entry) })) };
}

function StatsCard() {
  const { stats } = useCdnStore();
  if (!stats) return null;
  const { totals } = stats;
  return (
    <div className="card" data-testid="cdn-stats">
      <h2>Last {formatDuration((Date.parse(stats.until) - Date.parse(stats.since)) / 1000)}</h2>
      <p data-testid="cdn-stats-summary">
        Hit rate <strong>{totals.hitRate === null ? '—' : `${Math.round(totals.hitRate * 100)} %`}</strong> · {totals.hits} hits, {totals.misses} misses · from the edges&apos; cache {formatBytes(totals.edgeBytes)}, from the origin {formatBytes(totals.originBytes)}
      </p>
      <div className="cdn-grid">
        <TimeSeriesChart title="Hit rate" series={seriesOf(stats, (entry) => (entry.hitRate ?? 0) * 100)} format={(value) => `${Math.round(value)} %`} testId="cdn-hit-rate-chart" />
        <TimeSeriesChart title="Bytes from the edges' cache" series={seriesOf(stats, (entry) => entry.edgeBytes)} format={formatBytes} testId="cdn-edge-bytes-chart" />
        <TimeSeriesChart title="Bytes from the origin" series={seriesOf(stats, (entry) => entry.originBytes)} format={formatBytes} testId="cdn-origin-bytes-chart" />
      </div>
      {stats.provider ? (
        <p className="muted" data-testid="cdn-provider-analytics">
          {stats.provider.provider} analytics: {stats.provider.cachedRequests} of {stats.provider.requests} requests from cache, {formatBytes(stats.provider.cachedBytes)} of {formatBytes(stats.provider.bytes)}
        </p>
      ) : null}
      {stats.providerError ? <p className="error-text">Provider analytics: {stats.providerError}</p> : null}
    </div>
  );
}
