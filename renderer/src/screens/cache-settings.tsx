import { useEffect, useState } from 'react';
import { formatBytes } from '../lib/format';
import { useCacheStore } from '../stores/cache-store';
import { useSettingsStore } from '../stores/settings-store';

const gib = 1024 ** 3;

/** The package cache: what it holds, its cap, offline mode and a one-click clean. */
export function CacheSettings() {
  const settings = useSettingsStore((state) => state.settings);
  const update = useSettingsStore((state) => state.update);
  const { stats, error, lastClean, refresh, clean } = useCacheStore();
  const [capText, setCapText] = useState<string | null>(null);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  if (!settings) return null;
  const capValue = capText ?? String(Math.round((settings.cache.maxBytes / gib) * 10) / 10);
  const capInvalid = !/^\d+(\.\d+)?$/.test(capValue.trim()) || Number(capValue) > 100_000;
  const saveCap = async (): Promise<void> => {
    if (capText === null || capInvalid) return;
    if (await update({ cache: { ...settings.cache, maxBytes: Math.round(Number(capText) * gib) } })) {
      setCapText(null);
      await refresh();
    }
  };

  return (
    <div className="card" data-testid="cache-settings">
      <h2>Package cache</h2>
      <p className="muted">Packages pulled from registries, stored once by digest, verified on every hit, least recently used evicted first.</p>
      {stats ? (
        <dl className="facts">
          <dt>Holds</dt>
          <dd data-testid="cache-usage">
            {stats.entries} {stats.entries === 1 ? 'package' : 'packages'} · {formatBytes(stats.bytes)} of {formatBytes(stats.maxBytes)}
          </dd>
          <dt>Hits / misses</dt>
          <dd>
            {stats.hits} / {stats.misses} · {stats.evictions} evicted
          </dd>
        </dl>
      ) : null}
      <label className="field">
        <span>Size cap (GiB)</span>
        <input
          inputMode="decimal"
          value={capValue}
          onChange={(event) => setCapText(event.target.value)}
          onBlur={() => void saveCap()}
          onKeyDown={(event) => {
            if (event.key === 'Enter') void saveCap();
          }}
          aria-invalid={capInvalid}
        />
      </label>
      {capInvalid ? <p className="error-text">Enter a size in GiB, such as 20 or 0.5.</p> : null}
      <label className="checkbox">
        <input type="checkbox" checked={settings.cache.offline} onChange={(event) => void update({ cache: { ...settings.cache, offline: event.target.checked } })} />
        Offline: answer from the cache only, never touch the network
      </label>
      <div className="row">
        <button type="button" className="button secondary" onClick={() => void clean()} disabled={!stats || stats.entries === 0}>
          Clean cache
        </button>
        {lastClean ? <span className="muted">{lastClean}</span> : null}
      </div>
      {error ? <p className="error-text" role="alert">{error}</p> : null}
    </div>
  );
}
