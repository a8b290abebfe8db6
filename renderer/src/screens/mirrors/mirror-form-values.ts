import type { MirrorChanges } from '../../../../shared/contract/mirrors-channels';
import { mirrorConfigSchema, type MirrorConfig } from '../../../../shared/domain/mirrors';

/** The add/edit form as typed, one string per field, named as in depot.yaml's `mirrors.list`. */
export interface MirrorFormValues {
  id: string;
  url: string;
  region: string;
  priority: string;
  weight: string;
  capacity: string;
  sync_to: string;
  enabled: boolean;
}
export type MirrorFormField = Exclude<keyof MirrorFormValues, 'enabled'>;
export type MirrorFormErrors = Partial<Record<MirrorFormField, string>>;

export const emptyMirrorForm: MirrorFormValues = { id: '', url: '', region: '', priority: '1', weight: '100', capacity: '16', sync_to: '', enabled: true };

export function formValuesOf(mirror: MirrorConfig): MirrorFormValues {
  return {
    id: mirror.id,
    url: mirror.url,
    region: mirror.region ?? '',
    priority: String(mirror.priority),
    weight: String(mirror.weight),
    capacity: String(mirror.capacity),
    sync_to: mirror.sync_to ?? '',
    enabled: mirror.enabled,
  };
}

const numberFields = ['priority', 'weight', 'capacity'] as const;

/**
 * Checks the form with the config file's own schema, so the screen refuses exactly what
 * `depot.yaml` and the API refuse, and says which field is wrong.
 */
export function parseMirrorForm(values: MirrorFormValues): { ok: true; mirror: MirrorConfig } | { ok: false; errors: MirrorFormErrors } {
  const errors: MirrorFormErrors = {};
  const input: Record<string, unknown> = { id: values.id.trim(), url: values.url.trim(), enabled: values.enabled };
  if (values.region.trim() !== '') input.region = values.region.trim();
  if (values.sync_to.trim() !== '') input.sync_to = values.sync_to.trim();
  for (const field of numberFields) {
    const text = values[field].trim();
    if (text === '') continue;
    if (!/^\d+$/.test(text)) errors[field] = 'a whole number';
    else input[field] = Number(text);
  }
  const parsed = mirrorConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if (typeof field === 'string' && field in values && field !== 'enabled' && errors[field as MirrorFormField] === undefined) {
        errors[field as MirrorFormField] = input[field] === '' ? 'required' : issue.message;
      }
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, mirror: parsed.data };
}

/** What an edit changed, as `mirrors.update` takes it (null clears region or sync_to). */
export function mirrorChanges(before: MirrorConfig, after: MirrorConfig): MirrorChanges {
  const changes: MirrorChanges = {};
  if (after.url !== before.url) changes.url = after.url;
  if (after.region !== before.region) changes.region = after.region ?? null;
  if (after.priority !== before.priority) changes.priority = after.priority;
  if (after.weight !== before.weight) changes.weight = after.weight;
  if (after.capacity !== before.capacity) changes.capacity = after.capacity;
  if (after.sync_to !== before.sync_to) changes.sync_to = after.sync_to ?? null;
  if (after.enabled !== before.enabled) changes.enabled = after.enabled;
  return changes;
}
