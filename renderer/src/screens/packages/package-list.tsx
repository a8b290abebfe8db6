import { useEffect, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { formatBytes } from '../../lib/format';
import { listPageSize, usePackagesStore } from '../../stores/packages-store';
import { EncryptionBadge } from './encryption-badge';

const rowHeight = 52;

/** Every version, paged in on demand: only the rows in view exist in the DOM. */
export function AllVersionsList() {
  const total = usePackagesStore((state) => state.totalVersions);
  const pages = usePackagesStore((state) => state.pages);
  const loadPage = usePackagesStore((state) => state.loadPage);
  const select = usePackagesStore((state) => state.select);
  const selected = usePackagesStore((state) => state.selected);
  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual is built for this
  const virtualizer = useVirtualizer({ count: total, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 10 });
  const items = virtualizer.getVirtualItems();
  const firstPage = items.length > 0 ? Math.floor((items[0]?.index ?? 0) / listPageSize) : 0;
  const lastPage = items.length > 0 ? Math.floor((items.at(-1)?.index ?? 0) / listPageSize) : 0;

  // One page either side of the view is fetched ahead, so a fast scroll meets rows already loaded.
  useEffect(() => {
    const lastOfAll = Math.max(0, Math.ceil(total / listPageSize) - 1);
    for (let page = Math.max(0, firstPage - 1); page <= Math.min(lastOfAll, lastPage + 1); page += 1) void loadPage(page);
  }, [firstPage, lastPage, total, loadPage]);

  if (total === 0) {
    return (
      <div className="empty-state" data-testid="packages-empty">
        <p>No packages published yet.</p>
        <p className="muted">Drop a .torshpkg file anywhere on this window to publish it.</p>
      </div>
    );
  }
  return (
    <div className="list-scroll" ref={scrollRef} data-testid="versions-list" aria-label={`${total} versions`}>
      <ul style={{ height: virtualizer.getTotalSize(), position: 'relative' }} role="listbox" aria-label="Package versions">
        {items.map((item) => {
          const row = pages[Math.floor(item.index / listPageSize)]?.[item.index % listPageSize];
          const isSelected = row !== undefined && selected?.name === row.name && selected.version === row.version;
          return (
            <li key={item.key} role="option" aria-selected={isSelected} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: rowHeight, transform: `translateY(${item.start}px)` }}>
              {row ? (
                <button type="button" className={`list-row ${isSelected ? 'selected' : ''}`} onClick={() => void select(row.name, row.version)} data-testid="version-row">
                  <span className="list-row-title">
                    {row.name} <span className="version">{row.version}</span>
                    {row.yanked ? <span className="badge badge-failed">yanked</span> : null}
                    <EncryptionBadge encryption={row.encryption} />
                  </span>
                  <span className="list-row-sub muted">
                    {row.description ?? 'No description'} · {formatBytes(row.size)} · {row.downloads} downloads
                  </span>
                </button>
              ) : (
                <div className="list-row placeholder" aria-hidden="true" />
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function SearchResults() {
  const search = usePackagesStore((state) => state.search);
  const select = usePackagesStore((state) => state.select);
  const selected = usePackagesStore((state) => state.selected);
  if (!search) return null;
  if (search.packages.length === 0) return <p className="muted empty" data-testid="search-empty">No package matches.</p>;
  return (
    <div className="list-scroll">
      <p className="muted list-caption" data-testid="search-total">
        {search.total}
        {search.total_capped ? '+' : ''} {search.total === 1 ? 'package' : 'packages'}
      </p>
      <ul role="listbox" aria-label="Search results">
        {search.packages.map((item) => (
          <li key={item.name} role="option" aria-selected={selected?.name === item.name}>
            <button type="button" className={`list-row ${selected?.name === item.name ? 'selected' : ''}`} onClick={() => void select(item.name, item.version)} data-testid="search-result">
              <span className="list-row-title">
                {item.name} <span className="version">{item.version}</span>
                <EncryptionBadge encryption={item.encryption} />
              </span>
              <span className="list-row-sub muted">
                {item.description ?? 'No description'}
                {item.tags.length > 0 ? ` · ${item.tags.join(', ')}` : ''} · {item.downloads} downloads
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
