import { isUnderAppRoot } from './app-urls';
import type { HeadersReceivedDetailsLike, SessionLike } from './electron-surface';

/**
 * The renderer's policy: only the app's own bundled files run; no inline or eval'd script, no
 * plugins, no framing, no remote connections (the core is reached over IPC, not the network).
 * Inline styles stay allowed because React sets `style` attributes.
 */
export const contentSecurityPolicyDirectives: readonly string[] = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
];

export const contentSecurityPolicy = contentSecurityPolicyDirectives.join('; ');

/**
 * Response headers for one request: the app's own pages get our policy, replacing any policy
 * header already there (whatever its case); everything else passes through unchanged.
 */
export function headersWithContentSecurityPolicy(details: HeadersReceivedDetailsLike, appRootUrl: string): Record<string, string[]> | undefined {
  if (!isUnderAppRoot(details.url, appRootUrl)) return details.responseHeaders;
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'content-security-policy' || lower === 'content-security-policy-report-only') continue;
    headers[name] = value;
  }
  headers['Content-Security-Policy'] = [contentSecurityPolicy];
  headers['X-Content-Type-Options'] = ['nosniff'];
  return headers;
}

/**
 * Adds the policy header to the app's file:// pages. Defence in depth: the renderer's index.html
 * should carry the same policy in a <meta> tag, since older Electron releases skipped webRequest
 * for file://.
 */
export function installContentSecurityPolicy(session: SessionLike, appRootUrl: string): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders = headersWithContentSecurityPolicy(details, appRootUrl);
    callback(responseHeaders === undefined ? {} : { responseHeaders });
  });
}
