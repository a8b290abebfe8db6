import { useEffect, useRef, useState, type DragEvent } from 'react';
import { client } from './lib/client-instance';
import { Sidebar } from './components/sidebar';
import { StatusBar } from './components/status-bar';
import { JobsPanel } from './components/jobs-panel';
import { Toasts } from './components/toasts';
import { startConnectionUpdates, useConnectionStore } from './stores/connection-store';
import { startJobUpdates, useJobsStore } from './stores/jobs-store';
import { startNotificationUpdates } from './stores/notifications-store';
import { useSettingsStore } from './stores/settings-store';
import { useNavigationStore, type ScreenId } from './stores/navigation-store';
import { usePackagesStore } from './stores/packages-store';
import { droppedDirectoryEntry, readDirectoryEntry } from './lib/dropped-folder';
import { desktopBridge } from './lib/contract-client';
import { SettingsScreen } from './screens/settings-screen';
import { PackagesScreen } from './screens/packages/packages-screen';
import { MetricsScreen } from './screens/metrics/metrics-screen';
import { startMetricsUpdates } from './stores/metrics-store';
import { AccessScreen } from './screens/access/access-screen';
import { StorageScreen } from './screens/storage/storage-screen';
import { MirrorsScreen } from './screens/mirrors/mirrors-screen';
import { BackupsScreen } from './screens/backups/backups-screen';
import { CdnScreen } from './screens/cdn/cdn-screen';
import { ReplicationScreen } from './screens/replication/replication-screen';
import { NotBuiltScreen, notBuiltScreens } from './screens/not-built-screen';

function Screen({ id }: { id: ScreenId }) {
  if (id === 'packages') return <PackagesScreen />;
  if (id === 'settings') return <SettingsScreen />;
  if (id === 'metrics') return <MetricsScreen />;
  if (id === 'access') return <AccessScreen />;
  if (id === 'storage') return <StorageScreen />;
  if (id === 'mirrors') return <MirrorsScreen />;
  if (id === 'backups') return <BackupsScreen />;
  if (id === 'cdn') return <CdnScreen />;
  if (id === 'replication') return <ReplicationScreen />;
  const spec = notBuiltScreens[id];
  return <NotBuiltScreen title={spec.title} summary={spec.summary} arrives={spec.arrives} />;
}

export function NoSessionPage() {
  return (
    <main className="no-session" data-testid="no-session">
      <h1>Torsh Depot</h1>
      <p>This page needs the session token of the host that serves it.</p>
      <p className="muted">
        Open the URL printed by <code>torsh-depot serve</code> (it looks like <code>http://127.0.0.1:7878/?token=…</code>).
      </p>
    </main>
  );
}

/** The host answers this page's token with 401: it restarted (new token) or the URL was wrong. */
function SessionInvalidNotice() {
  return (
    <div className="card notice notice-error" role="alert" data-testid="session-invalid">
      <h2>This page is no longer connected to its host</h2>
      <p>
        The host refused this page&apos;s session token — it probably restarted, which creates a new one. Open the URL that{' '}
        <code>torsh-depot serve</code> printed when it started.
      </p>
    </div>
  );
}

export function App() {
  const screen = useNavigationStore((state) => state.screen);
  const go = useNavigationStore((state) => state.go);
  const toggleJobsPanel = useNavigationStore((state) => state.toggleJobsPanel);
  const dropFile = usePackagesStore((state) => state.dropFile);
  const dropFolder = usePackagesStore((state) => state.dropFolder);
  const connection = useConnectionStore((state) => state.connection);
  const [dragging, setDragging] = useState(false);
  const mainRef = useRef<HTMLElement>(null);

  useEffect(() => {
    const refreshAll = (): void => {
      void useJobsStore.getState().refresh();
      void useSettingsStore.getState().load();
      if (useNavigationStore.getState().screen === 'packages') void usePackagesStore.getState().reload();
    };
    void useSettingsStore.getState().load();
    const stops = [startConnectionUpdates(refreshAll), startJobUpdates(), startNotificationUpdates(), startMetricsUpdates(() => useNavigationStore.getState().screen === 'metrics')];
    return () => stops.forEach((stop) => stop());
  }, []);

  // Move focus to the new screen's heading so keyboard and screen-reader users land on it —
  // but not on first load, where Tab must start at the skip link.
  const shownScreen = useRef(screen);
  useEffect(() => {
    if (shownScreen.current === screen) return;
    shownScreen.current = screen;
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
  }, [screen]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'j') {
        event.preventDefault();
        toggleJobsPanel();
      }
      if (event.key === 'Escape') toggleJobsPanel(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [toggleJobsPanel]);

  if (!client) return <NoSessionPage />;

  const hasFiles = (event: DragEvent): boolean => Array.from(event.dataTransfer.types).includes('Files');
  const onDrop = (event: DragEvent): void => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (!file) return;
    go('packages');
    const directory = droppedDirectoryEntry(event.dataTransfer);
    if (!directory) {
      void dropFile(file);
      return;
    }
    // Desktop: the folder's real path, packed in place. Browser: its files are read now (the drop's
    // entries stop working once this handler returns) and uploaded.
    const localPath = desktopBridge()?.pathForFile(file) ?? null;
    if (localPath) void dropFolder({ name: directory.name, path: localPath, files: [] });
    else
      void readDirectoryEntry(directory).then(
        (folder) => dropFolder({ ...folder, path: null }),
        () => dropFolder({ name: directory.name, path: null, files: [] }),
      );
  };

  return (
    <div
      className="app"
      onDragOver={(event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (event.currentTarget === event.target) setDragging(false);
      }}
      onDrop={onDrop}
      data-testid="app"
    >
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          // The hash routes screens: move focus without touching it.
          event.preventDefault();
          (mainRef.current?.querySelector<HTMLElement>('h1') ?? mainRef.current)?.focus();
        }}
      >
        Skip to content
      </a>
      <Sidebar />
      <main id="main" ref={mainRef} className="main" tabIndex={-1}>
        {connection === 'unauthorized' ? <SessionInvalidNotice /> : null}
        <Screen id={screen} />
      </main>
      <JobsPanel />
      <StatusBar />
      <Toasts />
      {dragging ? (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop a .torshpkg or a folder to publish it</div>
        </div>
      ) : null}
    </div>
  );
}
