import { defaultSettings, settingsSchema, settingsUpdateSchema, type Settings, type SettingsUpdate } from '../../../shared/domain/settings';
import { DepotError } from '../../../shared/errors';
import type { SettingsBackend } from './settings-backend';

/** Validated preferences over any backend; unknown or invalid stored values fall back to defaults. */
export class SettingsService {
  private current: Settings;
  private readonly listeners = new Set<(settings: Settings) => void>();

  constructor(private readonly backend: SettingsBackend) {
    const stored = backend.read();
    const parsed = settingsSchema.safeParse(typeof stored === 'object' && stored !== null ? stored : {});
    // A value written by an older or newer build must not stop start-up: keep what is valid.
    this.current = parsed.success ? parsed.data : { ...defaultSettings, ...pickValid(stored) };
  }

  get(): Settings {
    return { ...this.current };
  }

  async update(update: SettingsUpdate): Promise<Settings> {
    const checked = settingsUpdateSchema.safeParse(update);
    if (!checked.success) throw new DepotError('VALIDATION_FAILED', `Invalid settings: ${checked.error.issues.map((i) => i.message).join('; ')}`);
    // zod fills defaults into the fields an update leaves out: keep only what the caller sent.
    const sent = Object.fromEntries(Object.entries(checked.data).filter(([key]) => Object.hasOwn(update, key)));
    const next = settingsSchema.parse({ ...this.current, ...sent });
    await this.backend.write(next);
    this.current = next;
    for (const listener of this.listeners) listener(this.get());
    return this.get();
  }

  onChange(listener: (settings: Settings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function pickValid(stored: unknown): Partial<Settings> {
  if (typeof stored !== 'object' || stored === null) return {};
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stored)) {
    const field = settingsSchema.shape[key as keyof Settings];
    if (field && field.safeParse(value).success) result[key] = value;
  }
  return result as Partial<Settings>;
}
