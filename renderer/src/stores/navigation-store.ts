import { create } from 'zustand';

export const screens = [
  { id: 'packages', label: 'Packages' },
  { id: 'deploy', label: 'Deploy' },
  { id: 'storage', label: 'Storage' },
  { id: 'mirrors', label: 'Mirrors' },
  { id: 'cdn', label: 'CDN' },
  { id: 'replication', label: 'Replication' },
  { id: 'backups', label: 'Backups' },
  { id: 'access', label: 'Access' },
  { id: 'metrics', label: 'Metrics' },
  { id: 'settings', label: 'Settings' },
] as const;

export type ScreenId = (typeof screens)[number]['id'];

interface NavigationStore {
  screen: ScreenId;
  jobsPanelOpen: boolean;
  go(screen: ScreenId): void;
  toggleJobsPanel(open?: boolean): void;
}

function screenFromHash(): ScreenId {
  const id = window.location.hash.replace(/^#\/?/, '');
  return screens.some((screen) => screen.id === id) ? (id as ScreenId) : 'packages';
}

export const useNavigationStore = create<NavigationStore>((set, get) => ({
  screen: screenFromHash(),
  jobsPanelOpen: false,
  go(screen) {
    if (window.location.hash !== `#/${screen}`) window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/${screen}`);
    set({ screen });
  },
  toggleJobsPanel(open) {
    set({ jobsPanelOpen: open ?? !get().jobsPanelOpen });
  },
}));

// Once the token is out of the URL, opening `/#/settings` only changes the hash (no reload): follow it.
window.addEventListener('hashchange', () => {
  const screen = screenFromHash();
  if (useNavigationStore.getState().screen !== screen) useNavigationStore.setState({ screen });
});
