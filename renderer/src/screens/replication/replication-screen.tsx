import { useState, type FormEvent } from 'react';
import type { ReplicationConflict, ReplicationNodeStatus, ReplicationTask } from '../../../../shared/domain/replication';
import { ScreenHeader } from '../../components/screen-header';
import { formatBytes, formatTime } from '../../lib/format';
import { usePolling } from '../../lib/use-polling';
import { useReplicationStore } from '../../stores/replication-store';
import { TimeSeriesChart } from '../metrics/time-series-chart';
import { statusDotClass } from '../mirrors/mirror-status';
import './replication-screen.css';

/** How often the open screen re-reads status, queue and conflicts (each refresh adds a lag sample). */
const refreshMs = 5_000;

/** A replication node is down while copies for it wait as hints. */
const nodeStatusLabels: Record<ReplicationNodeStatus['status'], string> = { healthy: 'Up', degraded: 'Degraded', unhealthy: 'Down', unknown: 'No copies yet' };

function formatMs(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Replication: nodes by region, the queue with retry, where a version is, conflicts and lag over time. */
export function ReplicationScreen() {
  const { status, loaded, error, retrying, verify, refresh, retry, runVerify } = useReplicationStore();
  usePolling(refresh, refreshMs);
  const configured = (status?.nodes.length ?? 0) > 0;

  return (
    <section className="screen replication-screen" aria-labelledby="screen-title" data-testid="replication-screen">
      <ScreenHeader
        title="Replication"
        subtitle="Copies of each version on nodes in several regions: where they are, how far behind each node is, and what waits for a node that is down."
        actions={
          configured ? (
            <>
              <button type="button" className="button secondary" disabled={verify.kind === 'running'} onClick={() => void runVerify(false)} data-testid="replication-verify">
                {verify.kind === 'running' ? 'Checking…' : 'Run anti-entropy'}
              </button>
              <button type="button" className="button secondary" disabled={verify.kind === 'running'} onClick={() => void runVerify(true)}>
                Deep verify
              </button>
              <button type="button" className="button" disabled={retrying} onClick={() => void retry()} data-testid="replication-retry-all">
                {retrying ? 'Retrying…' : 'Retry all now'}
              </button>
            </>
          ) : undefined
        }
      />
      <p className="notice notice-error" role="alert" hidden={!error}>
        {error}
      </p>
      {!loaded ? (
        <p className="muted" aria-busy="true">
          Loading replication…
        </p>
      ) : !status || !configured ? (
        <div className="card" data-testid="replication-empty">
          <h2>No replication nodes</h2>
          <p className="muted">
            Add nodes under <code>replication.nodes</code> in depot.yaml (or <code>torsh-depot replication nodes add</code>): a storage URL (s3://, azure://, gs://, file://) or another registry&apos;s http(s) URL.
          </p>
        </div>
      ) : (
        <>
          <Summary />
          <NodesByRegion nodes={status.nodes} />
          <div className="replication-grid">
            <PlacementCard />
            <VerifyCard />
          </div>
          <QueueCard />
          <ConflictsCard />
          <LagCharts nodes={status.nodes} />
        </>
      )}
    </section>
  );
}

function Summary() {
  const { status } = useReplicationStore();
  if (!status) return null;
  const down = status.nodes.filter((node) => node.status === 'unhealthy').length;
  return (
    <div className="card" data-testid="replication-summary">
      <p>
        Replication factor <strong>{status.replicationFactor}</strong> · default consistency <strong>{status.consistency}</strong> · {status.nodes.length} nodes
        {down > 0 ? <span className="error-text"> ({down} down)</span> : null} · <span data-testid="replication-queue-depth">{status.queueDepth}</span> copies waiting
      </p>
      {status.alerts.length > 0 ? (
        <ul className="replication-alerts" data-testid="replication-alerts">
          {status.alerts.map((alert, index) => (
            <li key={`${alert.kind}-${alert.nodeId ?? ''}-${index}`} className="error-text">
              {alert.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function NodesByRegion({ nodes }: { nodes: ReplicationNodeStatus[] }) {
  const regions = new Map<string, ReplicationNodeStatus[]>();
  for (const node of nodes) regions.set(node.region, [...(regions.get(node.region) ?? []), node]);
  return (
    <div className="replication-regions" data-testid="replication-nodes">
      {[...regions.entries()].map(([region, members]) => (
        <div className="card replication-region" key={region} data-testid="replication-region" data-region={region}>
          <h2 className="mono">{region}</h2>
          {members.map((node) => (
            <NodeCard node={node} key={node.id} />
          ))}
        </div>
      ))}
    </div>
  );
}

function NodeCard({ node }: { node: ReplicationNodeStatus }) {
  const { retry, retrying } = useReplicationStore();
  const share = node.capacityBytes ? Math.min(1, node.usedBytes / node.capacityBytes) : null;
  return (
    <div className="replication-node" data-testid="replication-node" data-node={node.id} data-status={node.status}>
      <div className="row spread">
        <span className="mirror-status" title={node.lastError ?? undefined}>
          <span className={statusDotClass(node.status)} aria-hidden="true" />
          <strong className="mono">{node.id}</strong>
          <span data-testid="replication-node-status">{nodeStatusLabels[node.status]}</span>
        </span>
        <span className="muted">
          {node.kind === 'peer' ? 'registry peer' : 'storage'} · priority {node.priority}
        </span>
      </div>
      <div className="muted mono replication-endpoint">{node.endpoint}</div>
      {node.lastError ? <div className="error-text replication-node-error">{node.lastError}</div> : null}
      <div className="replication-usage" title={share === null ? 'no capacity set' : `${Math.round(share * 100)} % of capacity`}>
        <div className={`replication-usage-fill${share !== null && share > 0.9 ? ' full' : ''}`} style={{ width: `${share === null ? 0 : share * 100}%` }} />
      </div>
      <div className="muted" data-testid="replication-node-usage">
        {formatBytes(node.usedBytes)} used{node.capacityBytes ? ` of ${formatBytes(node.capacityBytes)}` : ' (no capacity set)'}
      </div>
      <dl className="replication-node-figures">
        <dt>lag avg / p95</dt>
        <dd data-testid="replication-node-lag">
          {formatMs(node.lagAvgMs)} / {formatMs(node.lagP95Ms)}
        </dd>
        <dt>waiting / hints</dt>
        <dd>
          <span data-testid="replication-node-queue">{node.queueDepth}</span> / <span data-testid="replication-node-hints">{node.hints}</span>
        </dd>
        <dt>confirmed · errors</dt>
        <dd>
          {node.confirmed} · {node.errors}
        </dd>
      </dl>
      {node.queueDepth > 0 ? (
        <button type="button" className="button secondary" disabled={retrying} onClick={() => void retry(node.id)} data-testid="replication-node-retry">
          Retry {node.id} now
        </button>
      ) : null}
    </div>
  );
}

function taskStateText(task: ReplicationTask): string {
  if (task.state === 'done') return 'confirmed';
  if (task.state === 'held') return 'held (waits for an earlier change)';
  if (task.state === 'running') return 'copying';
  return task.lastError ? 'queued hint (node down)' : 'queued';
}

function QueueCard() {
  const { queue, retry, retrying, lastRetry } = useReplicationStore();
  const open = queue.filter((task) => task.state !== 'done');
  const recent = queue.filter((task) => task.state === 'done').slice(-10);
  return (
    <div className="card" data-testid="replication-queue">
      <div className="row spread">
        <h2>Queue</h2>
        <span className="muted">
          {open.length} waiting{lastRetry !== null ? ` · last retry re-tried ${lastRetry}` : ''}
        </span>
      </div>
      {open.length === 0 ? <p className="muted" data-testid="replication-queue-empty">Nothing waiting: every copy is confirmed.</p> : null}
      {open.length + recent.length > 0 ? (
        <table className="table replication-queue-table">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Node</th>
              <th scope="col">Operation</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Attempts
              </th>
              <th scope="col">Next try / confirmed</th>
              <th scope="col">Last error</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {[...open, ...recent].map((task) => (
              <tr key={task.id} data-testid="replication-task" data-node={task.nodeId} data-state={task.state}>
                <td className="mono">
                  {task.name}@{task.version}
                </td>
                <td className="mono">{task.nodeId}</td>
                <td>{task.operation}</td>
                <td data-testid="replication-task-state">{taskStateText(task)}</td>
                <td className="num">{task.attempts}</td>
                <td>{task.state === 'done' ? formatTime(task.confirmedAt) : formatTime(task.nextAttemptAt)}</td>
                <td className="error-text replication-task-error">{task.lastError ?? ''}</td>
                <td>
                  {task.state !== 'done' ? (
                    <button type="button" className="button secondary" disabled={retrying} onClick={() => void retry(task.nodeId)} data-testid="replication-task-retry">
                      Retry
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function PlacementCard() {
  const { placement, lookupPlacement } = useReplicationStore();
  const [query, setQuery] = useState('');
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    void lookupPlacement(query);
  };
  return (
    <form className="card" onSubmit={onSubmit} data-testid="replication-placement">
      <h2>Where is a version?</h2>
      <div className="row">
        <input className="mono grow" value={query} onChange={(event) => setQuery(event.target.value)} placeholder="resnet50@1.2.0" aria-label="name@version" data-testid="replication-placement-query" />
        <button type="submit" className="button" disabled={!query.trim() || placement.kind === 'loading'}>
          Look up
        </button>
      </div>
      {placement.kind === 'error' ? (
        <p className="error-text" role="alert">
          {placement.message}
        </p>
      ) : null}
      {placement.kind === 'ready' ? (
        placement.placement.nodes.length === 0 ? (
          <p className="muted" data-testid="replication-placement-none">
            No node holds or waits for {placement.placement.name}@{placement.placement.version}.
          </p>
        ) : (
          <ul className="replication-placement-list" data-testid="replication-placement-answer">
            {placement.placement.nodes.map((node) => (
              <li key={node.nodeId} data-testid="replication-placement-node" data-node={node.nodeId} data-state={node.state}>
                <span className={node.state === 'done' ? 'status-dot ok' : 'status-dot warn'} aria-hidden="true" /> <strong className="mono">{node.nodeId}</strong>{' '}
                {node.state === 'done' ? `holds it (confirmed ${formatTime(node.confirmedAt)})` : `not yet: ${node.state}`}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </form>
  );
}

function VerifyCard() {
  const { verify } = useReplicationStore();
  return (
    <div className="card" data-testid="replication-verify-card">
      <h2>Anti-entropy</h2>
      <p className="muted">Compares each node with what it should hold (hash trees; deep re-hashes every copy) and repairs what is missing, corrupt or stale.</p>
      {verify.kind === 'idle' ? <p className="muted">Not run from this screen yet.</p> : null}
      {verify.kind === 'running' ? <p aria-busy="true">Checking every node…</p> : null}
      {verify.kind === 'error' ? (
        <p className="error-text" role="alert">
          {verify.message}
        </p>
      ) : null}
      {verify.kind === 'done' ? (
        <>
          <p data-testid="replication-verify-summary">
            {verify.report.deep ? 'Deep check' : 'Check'}: {verify.report.checked} copies, {verify.report.findings.length === 0 ? 'nothing to repair' : `${verify.report.findings.length} findings, ${verify.report.findings.filter((finding) => finding.repaired).length} repaired`}
          </p>
          <ul className="replication-findings">
            {verify.report.findings.map((finding, index) => (
              <li key={`${finding.nodeId}-${finding.name}-${finding.version}-${index}`}>
                <span className={finding.repaired ? 'status-dot ok' : 'status-dot down'} aria-hidden="true" /> <span className="mono">{finding.nodeId}</span> {finding.name}@{finding.version}: {finding.problem}
                {finding.repaired ? ' (repaired)' : finding.error ? ` — ${finding.error}` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function ConflictSide({ title, digest, lines }: { title: string; digest: string | null; lines: string[] }) {
  return (
    <div className="replication-conflict-side">
      <h3>{title}</h3>
      <div className="mono replication-digest">{digest ?? 'no bytes'}</div>
      {lines.map((line) => (
        <div className="muted" key={line}>
          {line}
        </div>
      ))}
    </div>
  );
}

function ConflictRow({ conflict }: { conflict: ReplicationConflict }) {
  const { resolveConflict, resolving } = useReplicationStore();
  const busy = resolving === conflict.id;
  return (
    <li className="replication-conflict" data-testid="replication-conflict" data-conflict={conflict.id} data-resolved={conflict.resolvedAt !== null}>
      <div className="row spread">
        <strong className="mono">
          {conflict.name}@{conflict.version}
        </strong>
        <span className="muted">
          {conflict.kind === 'bytes' ? 'different bytes' : 'concurrent changes'} · detected {formatTime(conflict.detectedAt)}
        </span>
      </div>
      <div className="replication-conflict-sides">
        <ConflictSide title="This registry (local)" digest={conflict.local.digest} lines={[`region ${conflict.local.region ?? 'unknown'}`, `published ${formatTime(conflict.local.publishedAt)}`]} />
        <ConflictSide title={`Peer ${conflict.remote.origin} (remote)`} digest={conflict.remote.digest} lines={[`region ${conflict.remote.region ?? 'unknown'}`, `committed ${formatTime(conflict.remote.committedAt)}`]} />
      </div>
      {conflict.resolution ? (
        <p data-testid="replication-conflict-resolution">
          Resolved {formatTime(conflict.resolvedAt)}: {conflict.resolution.winner} kept ({conflict.resolution.policy}
          {conflict.resolution.by ? ` by ${conflict.resolution.by}` : ''}).
        </p>
      ) : (
        <div className="row">
          <button type="button" className="button" disabled={busy} onClick={() => void resolveConflict(conflict.id, { policy: 'manual', winner: 'local' })}>
            Keep local
          </button>
          <button type="button" className="button" disabled={busy} onClick={() => void resolveConflict(conflict.id, { policy: 'manual', winner: 'remote' })}>
            Keep remote
          </button>
          <button type="button" className="button secondary" disabled={busy} onClick={() => void resolveConflict(conflict.id, { policy: 'primary-region' })}>
            Primary region wins
          </button>
          <button type="button" className="button secondary" disabled={busy} onClick={() => void resolveConflict(conflict.id, { policy: 'first-published' })}>
            First published wins
          </button>
        </div>
      )}
    </li>
  );
}

function ConflictsCard() {
  const { conflicts } = useReplicationStore();
  const open = conflicts.filter((conflict) => conflict.resolvedAt === null).length;
  return (
    <div className="card" data-testid="replication-conflicts">
      <div className="row spread">
        <h2>Conflicts</h2>
        <span className="muted">
          {open} open · {conflicts.length - open} resolved
        </span>
      </div>
      {conflicts.length === 0 ? (
        <p className="muted">No conflicts: no two registries accepted the same version with different bytes or concurrent changes.</p>
      ) : (
        <ul className="replication-conflicts">
          {conflicts.map((conflict) => (
            <ConflictRow conflict={conflict} key={conflict.id} />
          ))}
        </ul>
      )}
    </div>
  );
}

function LagCharts({ nodes }: { nodes: ReplicationNodeStatus[] }) {
  const { lagHistory } = useReplicationStore();
  return (
    <div className="card" data-testid="replication-lag">
      <h2>Lag over time (p95, commit → confirm)</h2>
      <p className="muted">One sample per node every {refreshMs / 1000} s while this screen is open.</p>
      <div className="replication-grid">
        {nodes.map((node) => (
          <TimeSeriesChart key={node.id} title={`${node.id} (${node.region})`} series={{ stepMs: refreshMs, points: lagHistory[node.id] ?? [] }} format={formatMs} testId={`replication-lag-chart-${node.id}`} />
        ))}
      </div>
    </div>
  );
}
