import { describe, expect, it } from 'vitest';
import { emptyMirrorForm, formValuesOf, mirrorChanges, parseMirrorForm } from '../../../../renderer/src/screens/mirrors/mirror-form-values';

describe('the mirror form', () => {
  it('turns typed values into the config file\'s mirror, defaults filled, empty optional fields left out', () => {
    const parsed = parseMirrorForm({ ...emptyMirrorForm, id: 'mirror-eu', url: ' https://eu-mirror.example.com ', region: 'eu-central-1', weight: '' });
    expect(parsed).toEqual({ ok: true, mirror: { id: 'mirror-eu', url: 'https://eu-mirror.example.com', region: 'eu-central-1', priority: 1, weight: 100, capacity: 16, enabled: true } });
  });

  it('puts each error on its field with the schema\'s words', () => {
    const parsed = parseMirrorForm({ ...emptyMirrorForm, id: 'Bad Id', url: 'ftp://mirror.example.com', region: 'atlantis-1', priority: 'first', weight: '-3' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.id).toMatch(/lowercase letters, digits and -/);
    expect(parsed.errors.url).toMatch(/http:\/\/ or https:\/\//);
    expect(parsed.errors.region).toMatch(/not a known .* region/);
    expect(parsed.errors.priority).toBe('a whole number');
    expect(parsed.errors.weight).toBe('a whole number');
    expect(parsed.errors.capacity).toBeUndefined();
    expect(parseMirrorForm({ ...emptyMirrorForm, url: 'https://a.example.com' })).toEqual({ ok: false, errors: { id: 'required' } });
    expect(parseMirrorForm({ ...emptyMirrorForm, id: 'sync', url: 'https://user:pw@a.example.com', capacity: '0' })).toMatchObject({
      ok: false,
      errors: { id: expect.stringMatching(/reserved/), url: expect.stringMatching(/no credentials/), capacity: expect.any(String) },
    });
  });

  it('sends only what an edit changed, null clearing region and sync_to', () => {
    const before = { id: 'm', url: 'https://a.example.com', region: 'us-east-1', priority: 1, weight: 100, capacity: 16, sync_to: 'file:///srv/m', enabled: true };
    const values = { ...formValuesOf(before), region: '', sync_to: '', weight: '50' };
    const parsed = parseMirrorForm(values);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(mirrorChanges(before, parsed.mirror)).toEqual({ region: null, sync_to: null, weight: 50 });
    expect(mirrorChanges(before, before)).toEqual({});
  });
});
