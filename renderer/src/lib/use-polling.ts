import { useEffect } from 'react';

/** Runs `refresh` now and every `intervalMs` while the component is mounted (screens re-reading live state). */
export function usePolling(refresh: () => Promise<void>, intervalMs: number): void {
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), intervalMs);
    return () => clearInterval(timer);
  }, [refresh, intervalMs]);
}
