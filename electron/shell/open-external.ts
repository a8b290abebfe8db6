import type { Logger } from '../services/logger';
import type { ShellLike } from './electron-surface';

export type ExternalUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/**
 * Decides whether a URL may be handed to the OS. Only https: passes (never file:, javascript:,
 * custom schemes, which can start programs), without embedded credentials, and, when an allowlist
 * is given, only to those hosts.
 */
export function checkExternalUrl(raw: unknown, allowedHosts?: readonly string[]): ExternalUrlCheck {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'not a URL' };
  if (raw.length > 2048) return { ok: false, reason: 'URL longer than 2048 characters' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'malformed URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: `scheme ${url.protocol} is not allowed (https only)` };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'URLs with credentials are not opened' };
  if (allowedHosts !== undefined && !allowedHosts.some((host) => host.toLowerCase() === url.hostname)) {
    return { ok: false, reason: `host ${url.hostname} is not on the allowlist` };
  }
  return { ok: true, url: url.href };
}

/** The one way the shell opens links: true when the OS was asked to open it, false when refused. */
export type OpenExternal = (url: string) => Promise<boolean>;

export interface OpenExternalOptions {
  shell: ShellLike;
  logger: Logger;
  allowedHosts?: readonly string[];
}

export function createOpenExternal(options: OpenExternalOptions): OpenExternal {
  return async (raw) => {
    const check = checkExternalUrl(raw, options.allowedHosts);
    if (!check.ok) {
      options.logger.warn(`refused to open an external link (${check.reason}): ${String(raw).slice(0, 200)}`);
      return false;
    }
    try {
      await options.shell.openExternal(check.url);
      return true;
    } catch (error) {
      options.logger.error(`could not open ${check.url}`, error);
      return false;
    }
  };
}
