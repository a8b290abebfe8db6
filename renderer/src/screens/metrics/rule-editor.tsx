import { useState } from 'react';
import { alertKinds, alertMetrics, alertRuleInputSchema, metricsForKind, type AlertKind, type AlertMetric, type AlertRule, type AlertRuleInput } from '../../../../shared/domain/metrics';
import { useMetricsStore } from '../../stores/metrics-store';

const kindLabels: Record<AlertKind, string> = {
  maximum: 'Maximum (value above)',
  minimum: 'Minimum (value below)',
  'max-count': 'Max count in window',
  'max-bytes': 'Max bytes in window',
  'max-percentage': 'Max percentage',
};

interface Draft {
  name: string;
  kind: AlertKind;
  metric: AlertMetric;
  threshold: string;
  windowSeconds: string;
  forSeconds: string;
  severity: AlertRule['severity'];
}

const emptyDraft: Draft = { name: '', kind: 'max-count', metric: 'errors', threshold: '10', windowSeconds: '300', forSeconds: '0', severity: 'warning' };

function draftOf(rule: AlertRule): Draft {
  return {
    name: rule.name,
    kind: rule.kind,
    metric: rule.metric,
    threshold: String(rule.threshold),
    windowSeconds: String(rule.windowMs / 1000),
    forSeconds: String(rule.forMs / 1000),
    severity: rule.severity,
  };
}

/** Turns the form into a rule and checks it with the contract's own schema: the same rules as the core. */
function validate(draft: Draft, id: string | undefined): { rule: AlertRuleInput | null; problems: Record<string, string> } {
  const number = (text: string): number => (text.trim() === '' ? Number.NaN : Number(text));
  const input = {
    ...(id ? { id } : {}),
    name: draft.name,
    kind: draft.kind,
    metric: draft.metric,
    threshold: number(draft.threshold),
    windowMs: Math.round(number(draft.windowSeconds) * 1000),
    forMs: Math.round(number(draft.forSeconds) * 1000),
    severity: draft.severity,
    enabled: true,
  };
  const parsed = alertRuleInputSchema.safeParse(input);
  if (parsed.success) return { rule: input, problems: {} };
  const problems: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? 'name');
    problems[field] ??= Number.isNaN(input[field as 'threshold']) ? 'enter a number' : issue.message;
  }
  return { rule: null, problems };
}

export function RuleEditor({ editing, onDone }: { editing: AlertRule | null; onDone: () => void }) {
  const saveRule = useMetricsStore((state) => state.saveRule);
  const [draft, setDraft] = useState<Draft>(editing ? draftOf(editing) : emptyDraft);
  const [touched, setTouched] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const { rule, problems } = validate(draft, editing?.id);
  const shown = touched ? problems : {};
  const allowedMetrics = metricsForKind(draft.kind);

  const change = (patch: Partial<Draft>): void => {
    const next = { ...draft, ...patch };
    // A kind that does not take the chosen metric switches to the first one it takes.
    if (!metricsForKind(next.kind).includes(next.metric)) next.metric = metricsForKind(next.kind)[0] ?? next.metric;
    setDraft(next);
  };

  const submit = async (): Promise<void> => {
    setTouched(true);
    if (!rule) return;
    const failure = await saveRule(rule);
    setSaveError(failure);
    if (!failure) onDone();
  };

  const field = (key: keyof Draft, label: string, input: React.ReactNode) => (
    <label className="field">
      <span>{label}</span>
      {input}
      {shown[key === 'windowSeconds' ? 'windowMs' : key === 'forSeconds' ? 'forMs' : key] ? (
        <span className="error-text" data-testid={`rule-error-${key}`}>
          {shown[key === 'windowSeconds' ? 'windowMs' : key === 'forSeconds' ? 'forMs' : key]}
        </span>
      ) : null}
    </label>
  );

  return (
    <form
      className="card rule-editor"
      data-testid="rule-editor"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <h2>{editing ? `Edit “${editing.name}”` : 'New alert rule'}</h2>
      <div className="grid-3">
        {field('name', 'Name', <input data-testid="rule-name" value={draft.name} onChange={(event) => change({ name: event.target.value })} aria-invalid={Boolean(shown.name)} />)}
        {field(
          'kind',
          'Threshold',
          <select data-testid="rule-kind" value={draft.kind} onChange={(event) => change({ kind: event.target.value as AlertKind })}>
            {alertKinds.map((kind) => (
              <option key={kind} value={kind}>
                {kindLabels[kind]}
              </option>
            ))}
          </select>,
        )}
        {field(
          'metric',
          'Metric',
          <select data-testid="rule-metric" value={draft.metric} onChange={(event) => change({ metric: event.target.value as AlertMetric })}>
            {alertMetrics
              .filter((metric) => allowedMetrics.includes(metric))
              .map((metric) => (
                <option key={metric} value={metric}>
                  {metric}
                </option>
              ))}
          </select>,
        )}
        {field('threshold', 'Fires when the value passes', <input data-testid="rule-threshold" inputMode="decimal" value={draft.threshold} onChange={(event) => change({ threshold: event.target.value })} aria-invalid={Boolean(shown.threshold)} />)}
        {field('windowSeconds', 'Window (seconds)', <input data-testid="rule-window" inputMode="numeric" value={draft.windowSeconds} onChange={(event) => change({ windowSeconds: event.target.value })} aria-invalid={Boolean(shown.windowMs)} />)}
        {field('forSeconds', 'For (seconds held before firing)', <input data-testid="rule-for" inputMode="numeric" value={draft.forSeconds} onChange={(event) => change({ forSeconds: event.target.value })} aria-invalid={Boolean(shown.forMs)} />)}
        {field(
          'severity',
          'Severity',
          <select data-testid="rule-severity" value={draft.severity} onChange={(event) => change({ severity: event.target.value as AlertRule['severity'] })}>
            <option value="info">info</option>
            <option value="warning">warning</option>
            <option value="critical">critical</option>
          </select>,
        )}
      </div>
      <div className="row">
        <button type="submit" className="button" data-testid="rule-save">
          Save rule
        </button>
        <button type="button" className="button secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
      {saveError ? (
        <p className="error-text" role="alert">
          {saveError}
        </p>
      ) : null}
    </form>
  );
}
