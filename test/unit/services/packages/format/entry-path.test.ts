import { describe, expect, it } from 'vitest';
import { entryPathDefect, isDirectoryEntryName } from '../../../../../electron/services/packages/format';

describe('entryPathDefect', () => {
  it.each(['MANIFEST.json', 'models/w.pt', 'models/encoder/w.pt', 'data/caf\u00e9.csv', 'docs/a b.md', 'models/', 'x..y/z', '...'])('accepts %j', (name) => {
    expect(entryPathDefect(name)).toBeNull();
  });

  it.each([
    ['', 'empty-name'],
    ['/', 'empty-name'],
    ['/etc/passwd', 'absolute-path'],
    ['//server/share/x', 'absolute-path'],
    ['\\evil', 'absolute-path'],
    ['C:/Windows/x.dll', 'absolute-path'],
    ['c:evil', 'absolute-path'],
    ['../evil', 'zip-slip'],
    ['models/../../evil', 'zip-slip'],
    ['models/..', 'zip-slip'],
    ['..\\evil', 'zip-slip'],
    ['models\\w.pt', 'backslash-in-name'],
    ['models//w.pt', 'empty-segment'],
    ['models/./w.pt', 'dot-segment'],
    ['models/a\u0000.pt', 'control-character'],
    ['models/a\nb.pt', 'control-character'],
  ])('rejects %j as %s', (name, reason) => {
    expect(entryPathDefect(name)).toBe(reason);
  });

  it('knows directory entries', () => {
    expect(isDirectoryEntryName('models/')).toBe(true);
    expect(isDirectoryEntryName('models')).toBe(false);
  });
});
