import { useEffect, useId, useState } from 'react';
import { selectionStrategies, type SelectionStrategy } from '../../../../shared/domain/mirrors';
import { useMirrorsStore, type RankQuery } from '../../stores/mirrors-store';
import { regionListId } from './mirror-form';

const strategyHelp: Record<SelectionStrategy, string> = {
  geographic: 'nearest by great-circle distance from the client’s region',
  priority: 'lowest priority number first, weights among ties',
  weighted: 'random by weight',
  'least-loaded': 'fewest active transfers per unit of capacity',
  'lowest-latency': 'lowest measured latency (EWMA)',
  'round-robin': 'each mirror in turn',
};

/** The selection strategy and a live "who would serve a client in region X" for one version. */
export function RankPreview({ onClientRegion }: { onClientRegion: (region: string | null) => void }) {
  const settings = useMirrorsStore((state) => state.settings);
  const setStrategy = useMirrorsStore((state) => state.setStrategy);
  const rank = useMirrorsStore((state) => state.rank);
  const loadRank = useMirrorsStore((state) => state.loadRank);
  const [query, setQuery] = useState<RankQuery>({ name: '', version: '', region: '' });
  const id = useId();
  const configuredRegion = settings?.client_region ?? null;

  // Live: re-rank a moment after typing stops.
  useEffect(() => {
    const timer = setTimeout(() => void loadRank(query), 300);
    onClientRegion(query.region.trim() || configuredRegion);
    return () => clearTimeout(timer);
  }, [query, loadRank, onClientRegion, configuredRegion]);

  const strategy = settings?.selection_strategy ?? 'priority';
  return (
    <div className="card rank-preview" data-testid="rank-preview">
      <h2>Selection</h2>
      <div className="rank-controls">
        <div className="field">
          <label htmlFor={`${id}-strategy`} className="mono">
            selection_strategy
          </label>
          <select id={`${id}-strategy`} value={strategy} disabled={!settings} onChange={(event) => void setStrategy(event.target.value as SelectionStrategy)}>
            {selectionStrategies.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          <small className="muted">{strategyHelp[strategy]}</small>
        </div>
        <div className="field">
          <label htmlFor={`${id}-name`}>Package</label>
          <input id={`${id}-name`} value={query.name} placeholder="resnet50" onChange={(event) => setQuery({ ...query, name: event.target.value })} spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-version`}>Version</label>
          <input id={`${id}-version`} value={query.version} placeholder="1.0.0" onChange={(event) => setQuery({ ...query, version: event.target.value })} spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-region`}>Client region</label>
          <input
            id={`${id}-region`}
            value={query.region}
            placeholder={configuredRegion ?? 'host default'}
            list={regionListId}
            onChange={(event) => setQuery({ ...query, region: event.target.value })}
            spellCheck={false}
          />
        </div>
      </div>
      <div className="rank-result" aria-live="polite" data-testid="rank-result">
        {rank.kind === 'idle' ? <p className="muted">Name a package version to see who would serve it, in order, and why.</p> : null}
        {rank.kind === 'loading' ? <p className="muted">Ranking…</p> : null}
        {rank.kind === 'error' ? <p className="error-text">{rank.message}</p> : null}
        {rank.kind === 'ready' ? (
          rank.entries.length === 0 ? (
            <p className="muted">No mirrors: the registry itself would serve it.</p>
          ) : (
            <ol className="rank-list">
              {rank.entries.map((entry) => (
                <li key={entry.id} className={entry.eligible ? 'rank-eligible' : 'rank-skipped'} data-testid="rank-entry">
                  <span className="rank-place">{entry.place === null ? '–' : entry.place}</span>
                  <span className="mono rank-id">{entry.id}</span>
                  <span className="muted rank-reason">{entry.reason}</span>
                </li>
              ))}
            </ol>
          )
        ) : null}
      </div>
    </div>
  );
}
