/** What our trusted comments claim about the signed file; minisign's own comments claim only `timestamp` and `file`. */
export interface SignatureClaims {
  timestamp: number | null;
  name: string | null;
  version: string | null;
  /** Lower-case hex SHA-256 of the signed file. */
  sha256: string | null;
  file: string | null;
}

/** `timestamp:…<TAB>name:…<TAB>version:…<TAB>sha256:…` — minisign's tab-separated `key:value` style. */
export function buildTrustedComment(claims: { timestamp: number; name?: string | null; version?: string | null; sha256: string; file?: string | null }): string {
  const fields = [`timestamp:${claims.timestamp}`];
  if (claims.name) fields.push(`name:${claims.name}`);
  if (claims.version) fields.push(`version:${claims.version}`);
  if (!claims.name && claims.file) fields.push(`file:${claims.file.replace(/[\t\r\n]/g, '_')}`);
  fields.push(`sha256:${claims.sha256}`);
  return fields.join('\t');
}

export function parseTrustedComment(comment: string): SignatureClaims {
  const values = new Map<string, string>();
  for (const field of comment.split('\t')) {
    const colon = field.indexOf(':');
    if (colon > 0) values.set(field.slice(0, colon).trim(), field.slice(colon + 1));
  }
  const timestamp = values.get('timestamp');
  return {
    timestamp: timestamp !== undefined && /^\d+$/.test(timestamp) ? Number(timestamp) : null,
    name: values.get('name') ?? null,
    version: values.get('version') ?? null,
    sha256: values.get('sha256')?.replace(/^sha256:/, '').toLowerCase() ?? null,
    file: values.get('file') ?? null,
  };
}
