import { create } from 'zustand';
import type { AlertHistoryEntry, AlertRuleInput, AlertStatus, MetricSeries, MetricsReport, MetricsUpdated } from '../../../shared/domain/metrics';
import { client, requireClient } from '../lib/client-instance';
import { errorMessage } from '../lib/contract-client';
import { createFrameBatcher } from '../lib/frame-batcher';

export const metricsRanges = [
  { id: '15m', label: '15 min', rangeMs: 15 * 60_000, stepMs: 15_000 },
  { id: '1h', label: '1 hour', rangeMs: 3_600_000, stepMs: 60_000 },
  { id: '24h', label: '24 hours', rangeMs: 24 * 3_600_000, stepMs: 30 * 60_000 },
  { id: '7d', label: '7 days', rangeMs: 7 * 24 * 3_600_000, stepMs: 3 * 3_600_000 },
  { id: '30d', label: '30 days', rangeMs: 30 * 24 * 3_600_000, stepMs: 12 * 3_600_000 },
] as const;
export type MetricsRangeId = (typeof metricsRanges)[number]['id'];

interface MetricsStore {
  rangeId: MetricsRangeId;
  downloads: MetricSeries | null;
  bandwidth: MetricSeries | null;
  errors: MetricSeries | null;
  report: MetricsReport | null;
  alerts: AlertStatus[];
  history: AlertHistoryEntry[];
  /** When the figures were fetched: what "silenced until" is compared with. */
  loadedAt: number;
  error: string | null;
  setRange(id: MetricsRangeId): Promise<void>;
  refresh(): Promise<void>;
  /** Saves a rule; resolves with the core's error message, or null when saved. */
  saveRule(rule: AlertRuleInput): Promise<string | null>;
  removeRule(id: string): Promise<void>;
  acknowledge(id: string): Promise<void>;
  silence(id: string, durationMs: number | null): Promise<void>;
  exportReport(format: 'json' | 'csv'): Promise<void>;
}

function currentWindow(rangeId: MetricsRangeId): { from: number; to: number; stepMs: number } {
  const range = metricsRanges.find((candidate) => candidate.id === rangeId) ?? metricsRanges[0];
  // The last point is the step that holds "now", so new events land in it.
  const to = Math.ceil((Date.now() + 1) / range.stepMs) * range.stepMs;
  return { from: to - range.rangeMs, to, stepMs: range.stepMs };
}

let refreshing: Promise<void> | null = null;
let refreshAgain = false;

export const useMetricsStore = create<MetricsStore>((set, get) => ({
  rangeId: '15m',
  downloads: null,
  bandwidth: null,
  errors: null,
  report: null,
  alerts: [],
  history: [],
  loadedAt: 0,
  error: null,
  async setRange(id) {
    set({ rangeId: id });
    await get().refresh();
  },
  refresh() {
    // One refresh in flight; updates arriving meanwhile cause exactly one more.
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        refreshAgain = false;
        try {
          const api = requireClient();
          const window = currentWindow(get().rangeId);
          const [downloads, bandwidth, errors, report, alerts, history] = await Promise.all([
            api.request('metrics.series', { metric: 'downloads', ...window }),
            api.request('metrics.series', { metric: 'download_bytes', ...window }),
            api.request('metrics.series', { metric: 'errors', ...window }),
            api.request('metrics.report', { from: window.from, to: window.to }),
            api.request('metrics.alerts', {}),
            api.request('metrics.alertHistory', { limit: 50 }),
          ]);
          set({ downloads, bandwidth, errors, report, alerts, history, loadedAt: Date.now(), error: null });
        } catch (error) {
          set({ error: errorMessage(error) });
        }
      } while (refreshAgain);
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  },
  async saveRule(rule) {
    try {
      await requireClient().request('metrics.saveRule', rule);
      await get().refresh();
      return null;
    } catch (error) {
      return errorMessage(error);
    }
  },
  async removeRule(id) {
    await act(() => requireClient().request('metrics.removeRule', { id }));
  },
  async acknowledge(id) {
    await act(() => requireClient().request('metrics.acknowledge', { id }));
  },
  async silence(id, durationMs) {
    await act(() => requireClient().request('metrics.silence', { id, durationMs }));
  },
  async exportReport(format) {
    try {
      const window = currentWindow(get().rangeId);
      const file = await requireClient().request('metrics.exportReport', { from: window.from, to: window.to, format });
      const url = URL.createObjectURL(new Blob([file.body], { type: file.contentType }));
      const link = document.createElement('a');
      link.href = url;
      link.download = file.filename;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      set({ error: errorMessage(error) });
    }
  },
}));

async function act(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    await useMetricsStore.getState().refresh();
  } catch (error) {
    useMetricsStore.setState({ error: errorMessage(error) });
  }
}

/**
 * Live charts: the core says when new events were stored (about once a second at most); bursts
 * are applied at most once per animation frame, and only while the Metrics screen is shown.
 */
export function startMetricsUpdates(isVisible: () => boolean): () => void {
  if (!client) return () => undefined;
  const enqueue = createFrameBatcher<MetricsUpdated>(() => {
    if (isVisible()) void useMetricsStore.getState().refresh();
  });
  return client.onEvent('metrics.updated', enqueue);
}
