import { useState } from 'react';
import type { RetentionPolicyInput } from '../../../../shared/domain/backup';
import { useBackupsStore } from '../../stores/backups-store';

const counts = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

/** keep-* rules (the names of depot.yaml's `keep:` and the CLI's `--keep-*`), a dry-run preview, then apply. */
export function RetentionEditor({ initial }: { initial: RetentionPolicyInput | undefined }) {
  const { preview, previewRetention, applyRetention } = useBackupsStore();
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries([...counts.map((rule) => [rule, initial?.[rule]?.toString() ?? '']), ['within', initial?.within ?? '']]));
  const [problem, setProblem] = useState<string | null>(null);
  const policy = (): RetentionPolicyInput | null => {
    const keep: RetentionPolicyInput = {};
    for (const rule of counts) {
      const text = values[rule]?.trim() ?? '';
      if (text === '') continue;
      if (!/^\d{1,6}$/.test(text)) {
        setProblem(`keep ${rule}: a whole number`);
        return null;
      }
      keep[rule] = Number(text);
    }
    const within = values.within?.trim() ?? '';
    if (within !== '') {
      if (!/^(\d+y)?(\d+m)?(\d+d)?(\d+h)?$/.test(within)) {
        setProblem('keep within: a duration like 1y2m3d4h');
        return null;
      }
      keep.within = within;
    }
    setProblem(null);
    return keep;
  };
  const kept = preview?.groups.reduce((sum, group) => sum + group.keep.length, 0) ?? 0;
  const removed = preview?.groups.reduce((sum, group) => sum + group.remove.length, 0) ?? 0;
  return (
    <div className="card retention-editor" data-testid="retention-editor">
      <h2>Retention</h2>
      <form
        className="retention-fields"
        onSubmit={(event) => {
          event.preventDefault();
          const keep = policy();
          if (keep) void previewRetention(keep);
        }}
      >
        {[...counts, 'within' as const].map((rule) => (
          <label key={rule}>
            keep {rule}
            <input value={values[rule] ?? ''} onChange={(event) => setValues({ ...values, [rule]: event.target.value })} inputMode={rule === 'within' ? 'text' : 'numeric'} size={6} />
          </label>
        ))}
        <button type="submit" className="button secondary">
          Preview (dry run)
        </button>
      </form>
      <p className="notice notice-error" role="alert" hidden={!problem}>
        {problem}
      </p>
      {preview ? (
        <div data-testid="retention-preview">
          <p>
            Would keep {kept} and remove {removed} snapshot{removed === 1 ? '' : 's'}.
          </p>
          {preview.groups.map((group) => (
            <div key={group.group} className="retention-group">
              <h3>{group.group}</h3>
              <ul>
                {group.keep.map((entry) => (
                  <li key={entry.id} className="retention-keep">
                    keep <code>{entry.id.slice(0, 12)}</code> {entry.time} — {entry.reasons.join(', ')}
                  </li>
                ))}
                {group.remove.map((entry) => (
                  <li key={entry.id} className="retention-remove">
                    remove <code>{entry.id.slice(0, 12)}</code> {entry.time}
                  </li>
                ))}
              </ul>
            </div>
          ))}
          <button type="button" className="button danger" disabled={removed === 0} onClick={() => void applyRetention(preview.keep, true)}>
            Forget {removed} and prune
          </button>
        </div>
      ) : null}
    </div>
  );
}
