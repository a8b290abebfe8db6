import { useEffect } from 'react';
import { ScreenHeader } from '../../components/screen-header';
import { usePackagesStore } from '../../stores/packages-store';
import { folderFromInput } from '../../lib/dropped-folder';
import { AllVersionsList, SearchResults } from './package-list';
import { PackageDetail } from './package-detail';
import { PublishPanel } from './publish-panel';

export function PackagesScreen() {
  const query = usePackagesStore((state) => state.query);
  const setQuery = usePackagesStore((state) => state.setQuery);
  const runSearch = usePackagesStore((state) => state.runSearch);
  const reload = usePackagesStore((state) => state.reload);
  const searchError = usePackagesStore((state) => state.searchError);
  const listError = usePackagesStore((state) => state.listError);
  const total = usePackagesStore((state) => state.totalVersions);
  const dropFile = usePackagesStore((state) => state.dropFile);
  const dropFolder = usePackagesStore((state) => state.dropFolder);

  useEffect(() => {
    void reload();
  }, [reload]);

  // Search as you type, once the typing pauses.
  useEffect(() => {
    const timer = setTimeout(() => void runSearch(query), 150);
    return () => clearTimeout(timer);
  }, [query, runSearch]);

  return (
    <section className="screen packages-screen" aria-labelledby="screen-title">
      <ScreenHeader title="Packages" subtitle={`${total} ${total === 1 ? 'version' : 'versions'} in the local registry. Drop a .torshpkg or a folder anywhere on the window to publish it.`} />
      <div className="row choose-row">
        {/* The same flows as a drop, for keyboard users and for folders a drop cannot reach. */}
        <label className="button secondary">
          Choose package…
          <input
            type="file"
            accept=".torshpkg"
            className="visually-hidden"
            data-testid="choose-package"
            onChange={(event) => {
              const file = event.target.files?.[0];
              event.target.value = '';
              if (file) void dropFile(file);
            }}
          />
        </label>
        <label className="button secondary">
          Choose folder…
          <input
            type="file"
            className="visually-hidden"
            data-testid="choose-folder"
            {...{ webkitdirectory: '' }}
            onChange={(event) => {
              const folder = event.target.files ? folderFromInput(event.target.files) : null;
              event.target.value = '';
              if (folder) void dropFolder({ ...folder, path: null });
            }}
          />
        </label>
      </div>
      <PublishPanel />
      <div className="split">
        <div className="split-list">
          <input
            type="search"
            className="search-input"
            placeholder="Search by name, description or tag"
            aria-label="Search packages"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            data-testid="package-search"
          />
          {searchError || listError ? (
            <p className="error-text" role="alert">
              {searchError ?? listError}
            </p>
          ) : null}
          {query.trim() === '' ? <AllVersionsList /> : <SearchResults />}
        </div>
        <div className="split-detail">
          <PackageDetail />
        </div>
      </div>
    </section>
  );
}
