import { describe, expect, it } from 'vitest';
import { DepotError } from '../../../../../shared/errors';
import { isStrictSemver, isSupportedFormatVersion, isValidPackageName, manifestSchema } from '../../../../../shared/packages/manifest';
import { isValidVersionRange, parseManifest } from '../../../../../electron/services/packages/format';

const referenceManifest = {
  name: 'test_package',
  version: '1.0.0',
  format_version: '1.0.0',
  created_at: '2025-03-04T05:06:07.123456789Z',
  author: null,
  description: null,
  license: null,
  modules: [],
  resources: [],
  dependencies: {},
  metadata: {},
  signature: null,
};

function reasonOf(manifest: unknown): string | undefined {
  try {
    parseManifest(Buffer.from(typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2)));
  } catch (error) {
    expect(error).toBeInstanceOf(DepotError);
    expect((error as DepotError).code).toBe('INVALID_PACKAGE');
    return (error as DepotError).reason;
  }
  return undefined;
}

describe('package names', () => {
  it.each(['resnet-50', 'bert_base', 'torsh.core', 'vision/yolo-tiny', 'a', '0day', 'zoo/quokka-net'])('accepts %s', (name) => {
    expect(isValidPackageName(name)).toBe(true);
  });
  it.each(['', 'Bad', 'a b', 'a/b/c', '/a', 'a/', '.hidden', '..', '_x', '-x', 'scope/.x', 'a\\b', '@scope/x', 'x'.repeat(215)])('rejects %j', (name) => {
    expect(isValidPackageName(name)).toBe(false);
  });
});

describe('strict semver', () => {
  it.each(['0.0.0', '1.2.3', '10.20.30', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-0.3.7', '1.0.0+build.1', '1.0.0-rc.1+exp.sha.5114f85'])('accepts %s', (version) => {
    expect(isStrictSemver(version)).toBe(true);
  });
  it.each(['1', '1.0', 'v1.0.0', '01.0.0', '1.00.0', '1.0.0-', '1.0.0-01', '1.0.0+', ' 1.0.0', '1.0.0 ', '1.0.0-a..b'])('rejects %j', (version) => {
    expect(isStrictSemver(version)).toBe(false);
  });
  it('accepts any 1.x.y format version and no other major', () => {
    expect(isSupportedFormatVersion('1.0.0')).toBe(true);
    expect(isSupportedFormatVersion('1.7.2')).toBe(true);
    expect(isSupportedFormatVersion('2.0.0')).toBe(false);
    expect(isSupportedFormatVersion('0.9.0')).toBe(false);
    expect(isSupportedFormatVersion('1.0')).toBe(false);
  });
});

describe('dependency requirements', () => {
  it.each(['^1.2.0', '>=1.0.0', '=2.0.0', '1.2.3', '2.0', '~1.2', '*', '1.x', '>=1.0.0 <2.0.0', '>=1.0.0, <2.0.0', '^1.0.0 || ^2.0.0', '0.1.0-alpha.2'])('accepts %s', (range) => {
    expect(isValidVersionRange(range)).toBe(true);
  });
  it.each(['', '   ', 'latest', 'not a range!', '>>1'])('rejects %j', (range) => {
    expect(isValidVersionRange(range)).toBe(false);
  });
});

describe('parseManifest', () => {
  it('accepts the manifest the reference writes, and fills defaults for missing optional keys', () => {
    expect(parseManifest(Buffer.from(JSON.stringify(referenceManifest, null, 2)))).toEqual(referenceManifest);
    const { author: _a, modules: _m, resources: _r, dependencies: _d, metadata: _x, signature: _s, ...minimal } = referenceManifest;
    expect(manifestSchema.parse(minimal)).toEqual(referenceManifest);
  });

  it('gives each defect its own reason', () => {
    expect(reasonOf('{ not json')).toBe('manifest-not-json');
    expect(reasonOf(Buffer.from([0xff, 0xfe]).toString('latin1'))).toBe('manifest-not-json');
    expect(reasonOf('[]')).toBe('bad-manifest');
    expect(reasonOf({ ...referenceManifest, name: 'Bad Name' })).toBe('bad-name');
    expect(reasonOf({ ...referenceManifest, version: '1.0' })).toBe('bad-semver');
    expect(reasonOf({ ...referenceManifest, format_version: '2.0.0' })).toBe('unsupported-format-version');
    expect(reasonOf({ ...referenceManifest, format_version: 'one' })).toBe('bad-format-version');
    expect(reasonOf({ ...referenceManifest, created_at: 'yesterday' })).toBe('bad-created-at');
    expect(reasonOf({ ...referenceManifest, dependencies: { core: 'latest' } })).toBe('bad-dependency');
    expect(reasonOf({ ...referenceManifest, dependencies: { 'Bad Dep': '^1.0.0' } })).toBe('bad-dependency');
    expect(reasonOf({ ...referenceManifest, resources: [{ name: 'w.pt', resource_type: 'Weights', size: 1, sha256: '', compression: null }] })).toBe('bad-manifest');
    expect(reasonOf({ ...referenceManifest, metadata: { tags: 3 } })).toBe('bad-manifest');
  });

  it('checks the format major before anything else (a 2.x manifest may differ everywhere)', () => {
    expect(reasonOf({ format_version: '2.1.0', something: 'else' })).toBe('unsupported-format-version');
  });
});
