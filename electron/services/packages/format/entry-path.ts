/** Why an entry name is refused; each value doubles as the error `reason`. */
export type EntryPathDefect = 'empty-name' | 'control-character' | 'absolute-path' | 'zip-slip' | 'backslash-in-name' | 'empty-segment' | 'dot-segment';

const entryPathDefectMessages: Record<EntryPathDefect, string> = {
  'empty-name': 'is empty',
  'control-character': 'contains a NUL or control character',
  'absolute-path': 'is an absolute path',
  'zip-slip': 'climbs out of the package with ".."',
  'backslash-in-name': 'contains a backslash',
  'empty-segment': 'contains an empty path segment',
  'dot-segment': 'contains a "." path segment',
};

export function describeEntryPathDefect(defect: EntryPathDefect): string {
  return entryPathDefectMessages[defect];
}

/** ZIP directory entries end with `/`; they carry no data and are ignored. */
export function isDirectoryEntryName(name: string): boolean {
  return name.endsWith('/');
}

/**
 * Checks an entry name the way an extractor on any OS would need it: a relative
 * forward-slash path with no way to escape the target folder. Order matters only
 * for which reason a name with several defects reports (`..\x` is a zip-slip first).
 */
export function entryPathDefect(name: string): EntryPathDefect | null {
  const path = isDirectoryEntryName(name) ? name.slice(0, -1) : name;
  if (path.length === 0) return 'empty-name';
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'control-character';
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) return 'absolute-path';
  const segments = path.split(/[/\\]/);
  if (segments.includes('..')) return 'zip-slip';
  if (path.includes('\\')) return 'backslash-in-name';
  if (segments.includes('')) return 'empty-segment';
  if (segments.includes('.')) return 'dot-segment';
  return null;
}

export function isValidEntryPath(name: string): boolean {
  return entryPathDefect(name) === null;
}

/** Names that differ only in Unicode normalization extract to the same file on macOS: compare by this key. */
export function entryPathKey(name: string): string {
  return name.normalize('NFC');
}
