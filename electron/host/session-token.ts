import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export function createSessionToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison; hashing first makes lengths equal without leaking them. */
export function tokensMatch(expected: string, presented: string | null | undefined): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** Named per port: another service on 127.0.0.1 (cookies ignore ports) never receives this host's session. */
export function sessionCookieName(port: number): string {
  return `torsh_depot_session_${port}`;
}

/** A cookie's value, or undefined; a malformed value (`%zz`) is treated as absent, never thrown. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(rest.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}
