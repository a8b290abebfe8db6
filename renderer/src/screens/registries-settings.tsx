import { useEffect, useState, type FormEvent } from 'react';
import { useRegistriesStore } from '../stores/registries-store';

const emptyForm = { id: '', label: '', url: '', apiKey: '' };

/** Registries this app talks to; API keys go to the secret store and are never shown again. */
export function RegistriesSettings() {
  const { registries, error, testResults, refresh, save, remove, setDefault, test } = useRegistriesStore();
  const [form, setForm] = useState(emptyForm);
  const [formError, setFormError] = useState<string | null>(null);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(form.id)) return setFormError('Id: lowercase letters, digits and -, starting with a letter or digit.');
    if (form.label.trim() === '') return setFormError('Give the registry a name.');
    if (!/^https?:\/\/.+/.test(form.url.trim())) return setFormError('URL: http:// or https:// followed by the host.');
    if (form.apiKey !== '' && form.apiKey.length < 8) return setFormError('That API key is too short.');
    setFormError(null);
    if (await save({ id: form.id, label: form.label.trim(), url: form.url.trim(), ...(form.apiKey === '' ? {} : { apiKey: form.apiKey }) })) setForm(emptyForm);
  };

  return (
    <div className="card" data-testid="registries-settings">
      <h2>Registries</h2>
      <ul className="plain">
        {registries.map((registry) => (
          <li key={registry.id} className="registry-row" data-testid="registry-row">
            <div>
              <strong>{registry.label}</strong> {registry.isDefault ? <span className="badge badge-succeeded">default</span> : null}
              <div className="muted mono">{registry.url ?? 'not served over HTTP'}{registry.hasApiKey ? ' · key stored' : ''}</div>
              {testResults[registry.id] ? <div className={testResults[registry.id]?.ok ? 'success-text' : 'error-text'}>{testResults[registry.id]?.message}</div> : null}
            </div>
            <div className="row">
              <button type="button" className="link-button" onClick={() => void test(registry.id)} disabled={!registry.url}>
                Test
              </button>
              {!registry.isDefault ? (
                <button type="button" className="link-button" onClick={() => void setDefault(registry.id)}>
                  Make default
                </button>
              ) : null}
              {!registry.builtIn ? (
                <button type="button" className="link-button" onClick={() => void remove(registry.id)}>
                  Remove
                </button>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
      <form className="form" onSubmit={(event) => void submit(event)} noValidate>
        <div className="grid-3">
          <label className="field">
            <span>Id</span>
            <input value={form.id} onChange={(event) => setForm({ ...form, id: event.target.value })} placeholder="team" />
          </label>
          <label className="field">
            <span>Name</span>
            <input value={form.label} onChange={(event) => setForm({ ...form, label: event.target.value })} placeholder="Team registry" />
          </label>
          <label className="field">
            <span>URL</span>
            <input value={form.url} onChange={(event) => setForm({ ...form, url: event.target.value })} placeholder="https://depot.example.com" />
          </label>
        </div>
        <label className="field">
          <span>API key (optional; stored in the OS keychain or a 0600 file, never shown again)</span>
          <input type="password" autoComplete="off" value={form.apiKey} onChange={(event) => setForm({ ...form, apiKey: event.target.value })} />
        </label>
        {formError || error ? (
          <p className="error-text" role="alert">
            {formError ?? error}
          </p>
        ) : null}
        <button type="submit" className="button secondary">
          Add or update registry
        </button>
      </form>
    </div>
  );
}
