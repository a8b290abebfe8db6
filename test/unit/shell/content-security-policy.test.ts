import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, installContentSecurityPolicy } from '../../../electron/shell/content-security-policy';
import { installPermissionPolicy } from '../../../electron/shell/permission-policy';
import { appUrlsFor } from '../../../electron/shell/app-urls';
import { createRecordingLogger, FakeSession } from './fake-electron';

const urls = appUrlsFor('/opt/Torsh Depot/resources/app.asar/dist/renderer/index.html');

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe('content security policy', () => {
  it('is strict: own scripts only, no inline or eval, no plugins, no framing, no remote connections', () => {
    const parsed = directives(contentSecurityPolicy);
    expect(parsed.get('default-src')).toEqual(["'self'"]);
    expect(parsed.get('script-src')).toEqual(["'self'"]);
    expect(parsed.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(parsed.get('img-src')).toEqual(["'self'", 'data:']);
    expect(parsed.get('connect-src')).toEqual(["'self'"]);
    expect(parsed.get('object-src')).toEqual(["'none'"]);
    expect(parsed.get('base-uri')).toEqual(["'none'"]);
    expect(parsed.get('frame-ancestors')).toEqual(["'none'"]);
    expect(contentSecurityPolicy).not.toMatch(/unsafe-eval|\*|https?:/);
  });

  it('adds the header to the app pages, replacing any policy already sent', () => {
    const session = new FakeSession();
    installContentSecurityPolicy(session, urls.rootUrl);
    const answer = session.receiveHeaders({
      url: urls.indexUrl,
      responseHeaders: { 'content-security-policy': ["default-src *"], 'Content-Type': ['text/html'] },
    });
    expect(answer.responseHeaders).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [contentSecurityPolicy],
      'X-Content-Type-Options': ['nosniff'],
    });
    const asset = session.receiveHeaders({ url: `${urls.rootUrl}assets/index-abc.js` });
    expect(asset.responseHeaders?.['Content-Security-Policy']).toEqual([contentSecurityPolicy]);
  });

  it('leaves responses outside the app folder untouched', () => {
    const session = new FakeSession();
    installContentSecurityPolicy(session, urls.rootUrl);
    const headers = { 'Content-Type': ['text/html'] };
    expect(session.receiveHeaders({ url: 'https://example.com/', responseHeaders: headers })).toEqual({ responseHeaders: headers });
    expect(session.receiveHeaders({ url: 'file:///etc/passwd' })).toEqual({});
    // A path that only shares a prefix with the app folder is not the app.
    expect(session.receiveHeaders({ url: urls.rootUrl.replace(/\/$/, '-evil/index.html') })).toEqual({});
  });
});

describe('permission policy', () => {
  it('denies every permission request and check from pages', () => {
    const session = new FakeSession();
    const logger = createRecordingLogger();
    installPermissionPolicy(session, logger);
    const granted: boolean[] = [];
    session.permissionRequestHandler?.({}, 'media', (value) => granted.push(value));
    expect(granted).toEqual([false]);
    expect(session.permissionCheckHandler?.({}, 'notifications')).toBe(false);
    expect(logger.lines.join('\n')).toMatch(/denied .*media/);
  });
});
