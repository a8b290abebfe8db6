import { useEffect, useId, useState, type FormEvent } from 'react';
import type { MirrorConfig } from '../../../../shared/domain/mirrors';
import { cloudRegions } from '../../../../shared/domain/regions';
import { useMirrorsStore } from '../../stores/mirrors-store';
import { emptyMirrorForm, formValuesOf, mirrorChanges, parseMirrorForm, type MirrorFormErrors, type MirrorFormField, type MirrorFormValues } from './mirror-form-values';

export const regionListId = 'mirror-region-ids';

/** The region ids the inputs suggest (any `lat,lon` is accepted too). */
export function RegionOptions() {
  return (
    <datalist id={regionListId}>
      {cloudRegions.map((region) => (
        <option key={region.id} value={region.id}>
          {`${region.provider.toUpperCase()} · ${region.location}`}
        </option>
      ))}
    </datalist>
  );
}

const fieldHelp: Record<MirrorFormField, string> = {
  id: 'lowercase letters, digits and -',
  url: 'http:// or https:// root holding index.json',
  region: 'cloud region id or "lat,lon"',
  priority: 'lower is preferred (priority strategy)',
  weight: 'share among equals (weighted strategy)',
  capacity: 'concurrent transfers (least-loaded strategy)',
  sync_to: 'storage URL mirror sync writes to (optional)',
};

/** Adds a mirror, or edits one (`editing`); fields named as in depot.yaml, errors next to their field. */
export function MirrorForm({ editing, onDone }: { editing: MirrorConfig | null; onDone: () => void }) {
  const add = useMirrorsStore((state) => state.add);
  const update = useMirrorsStore((state) => state.update);
  const remove = useMirrorsStore((state) => state.remove);
  const [confirmingRemove, setConfirmingRemove] = useState(false);
  const [values, setValues] = useState<MirrorFormValues>(editing ? formValuesOf(editing) : emptyMirrorForm);
  const [errors, setErrors] = useState<MirrorFormErrors>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const formId = useId();
  // Keyboard users land in the form they opened (the id is fixed once a mirror exists).
  useEffect(() => {
    const first = document.getElementById(`${formId}-${editing ? 'url' : 'id'}`);
    first?.focus();
    first?.scrollIntoView({ block: 'nearest' });
  }, [formId, editing]);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const parsed = parseMirrorForm(values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      setServerError(null);
      const first = Object.keys(parsed.errors)[0];
      if (first) document.getElementById(`${formId}-${first}`)?.focus();
      return;
    }
    setErrors({});
    setSaving(true);
    const failure = editing ? await update(editing.id, mirrorChanges(editing, parsed.mirror)) : await add(parsed.mirror);
    setSaving(false);
    if (failure) setServerError(failure);
    else {
      setValues(emptyMirrorForm);
      onDone();
    }
  };

  const field = (name: MirrorFormField, extra: { placeholder?: string; inputMode?: 'numeric'; list?: string; disabled?: boolean } = {}) => {
    const inputId = `${formId}-${name}`;
    const error = errors[name];
    return (
      <div className="field mirror-field">
        <label htmlFor={inputId} className="mono">
          {name}
        </label>
        <input
          id={inputId}
          value={values[name]}
          onChange={(event) => setValues({ ...values, [name]: event.target.value })}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${inputId}-hint`}
          autoComplete="off"
          spellCheck={false}
          {...extra}
        />
        <small id={`${inputId}-hint`} className={error ? 'error-text' : 'muted'} data-testid={error ? `mirror-error-${name}` : undefined}>
          {error ?? fieldHelp[name]}
        </small>
      </div>
    );
  };

  return (
    <form className="card mirror-form" onSubmit={(event) => void submit(event)} noValidate data-testid="mirror-form" aria-label={editing ? `Edit mirror ${editing.id}` : 'Add a mirror'}>
      <h2>{editing ? `Edit ${editing.id}` : 'Add a mirror'}</h2>
      <div className="mirror-form-grid">
        {field('id', { placeholder: 'mirror-eu', disabled: editing !== null })}
        {field('url', { placeholder: 'https://eu-mirror.example.com' })}
        {field('region', { placeholder: 'eu-central-1', list: regionListId })}
        {field('priority', { inputMode: 'numeric' })}
        {field('weight', { inputMode: 'numeric' })}
        {field('capacity', { inputMode: 'numeric' })}
        {field('sync_to', { placeholder: 's3://bucket/prefix?region=eu-central-1' })}
        <label className="checkbox mirror-enabled">
          <input type="checkbox" checked={values.enabled} onChange={(event) => setValues({ ...values, enabled: event.target.checked })} /> <span className="mono">enabled</span>
        </label>
      </div>
      <p className="error-text mirror-server-error" role="alert">
        {serverError ?? ''}
      </p>
      <div className="row">
        <button type="submit" className="button" disabled={saving}>
          {editing ? 'Save changes' : 'Add mirror'}
        </button>
        <button type="button" className="button secondary" onClick={onDone}>
          Cancel
        </button>
        {editing ? (
          <span className="mirror-remove">
            {confirmingRemove ? (
              <>
                <span className="muted">Forget {editing.id}, its health history and counters?</span>
                <button type="button" className="button danger" onClick={() => void remove(editing.id).then(onDone)}>
                  Remove {editing.id}
                </button>
                <button type="button" className="button secondary" onClick={() => setConfirmingRemove(false)}>
                  Keep
                </button>
              </>
            ) : (
              <button type="button" className="button secondary" onClick={() => setConfirmingRemove(true)}>
                Remove mirror…
              </button>
            )}
          </span>
        ) : null}
      </div>
    </form>
  );
}
