import { useState } from 'react';
import { settingsSchema } from '../../../../shared/domain/settings';
import { useSettingsStore } from '../../stores/settings-store';

const metricsSettingsSchema = settingsSchema.shape.metrics.unwrap();

/** Where alerts go and who may scrape: the webhook URL, the /metrics key requirement, raw retention. */
export function MonitoringSettings() {
  const settings = useSettingsStore((state) => state.settings);
  const update = useSettingsStore((state) => state.update);
  const storeError = useSettingsStore((state) => state.error);
  const [webhookText, setWebhookText] = useState<string | null>(null);
  const [retentionText, setRetentionText] = useState<string | null>(null);
  if (!settings) return null;
  const current = settings.metrics;
  const webhookValue = webhookText ?? current.alertWebhookUrl ?? '';
  const retentionValue = retentionText ?? String(current.rawRetentionHours);
  const candidate = metricsSettingsSchema.safeParse({ ...current, alertWebhookUrl: webhookValue.trim() === '' ? null : webhookValue.trim(), rawRetentionHours: Number(retentionValue) });
  const problem = candidate.success ? null : candidate.error.issues.map((issue) => `${issue.path.join('.') === 'alertWebhookUrl' ? 'Webhook URL' : 'Raw retention'}: ${issue.message}`).join('; ');

  const save = async (): Promise<void> => {
    if (!candidate.success) return;
    if (await update({ metrics: candidate.data })) {
      setWebhookText(null);
      setRetentionText(null);
    }
  };

  return (
    <div className="card" data-testid="monitoring-settings">
      <h2>Monitoring settings</h2>
      <label className="field">
        <span>Alert webhook (Alertmanager-compatible receiver; empty: none)</span>
        <input
          data-testid="webhook-url"
          placeholder="http://127.0.0.1:9093/api/v2/alerts"
          value={webhookValue}
          onChange={(event) => setWebhookText(event.target.value)}
          onBlur={() => void save()}
          aria-invalid={problem !== null && webhookText !== null}
        />
      </label>
      <label className="field">
        <span>Keep raw events (hours; minute rollups stay 30 days, hour rollups a year)</span>
        <input inputMode="numeric" value={retentionValue} onChange={(event) => setRetentionText(event.target.value)} onBlur={() => void save()} />
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={current.requireKeyForEndpoint} onChange={(event) => void update({ metrics: { ...current, requireKeyForEndpoint: event.target.checked } })} />
        Require an API key for <code>GET /metrics</code> (always required for callers on other machines)
      </label>
      {problem && (webhookText !== null || retentionText !== null) ? <p className="error-text">{problem}</p> : null}
      {storeError ? (
        <p className="error-text" role="alert">
          {storeError}
        </p>
      ) : null}
    </div>
  );
}
