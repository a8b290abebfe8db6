import { describe, expect, it, vi } from 'vitest';
import { installNavigationGuard } from '../../../electron/shell/navigation-guard';
import { appUrlsFor } from '../../../electron/shell/app-urls';
import { createRecordingLogger, FakePreventable, FakeWebContents } from './fake-electron';

const { indexUrl } = appUrlsFor('/app/dist/renderer/index.html');

function guarded(openExternal?: (url: string) => Promise<boolean>) {
  const contents = new FakeWebContents(indexUrl);
  const logger = createRecordingLogger();
  installNavigationGuard(contents, { appIndexUrl: indexUrl, logger, ...(openExternal ? { openExternal } : {}) });
  return { contents, logger };
}

describe('installNavigationGuard', () => {
  it('denies every window.open, handing the URL to the openExternal helper only', () => {
    const openExternal = vi.fn(async (_url: string) => true);
    const { contents } = guarded(openExternal);
    expect(contents.openWindow('https://example.com/docs')).toEqual({ action: 'deny' });
    expect(contents.openWindow('file:///etc/passwd')).toEqual({ action: 'deny' });
    expect(contents.openWindow(indexUrl)).toEqual({ action: 'deny' });
    expect(openExternal.mock.calls.map(([url]) => url)).toEqual(['https://example.com/docs', 'file:///etc/passwd', indexUrl]);
  });

  it('denies window.open and logs it when no openExternal helper is given', () => {
    const { contents, logger } = guarded();
    expect(contents.openWindow('https://example.com/')).toEqual({ action: 'deny' });
    expect(logger.lines.join('\n')).toMatch(/blocked window\.open/);
  });

  it('prevents navigation and redirects away from the app index page', () => {
    const { contents, logger } = guarded();
    for (const url of ['https://evil.example/', 'http://127.0.0.1:7879/', 'file:///etc/passwd', indexUrl.replace('index.html', 'other.html'), 'javascript:alert(1)', 'data:text/html,<b>x</b>']) {
      expect(contents.navigate(url), url).toBe(false);
      expect(contents.navigate(url, 'will-redirect'), url).toBe(false);
    }
    expect(contents.mainFrame.url).toBe(indexUrl);
    expect(logger.lines.filter((line) => line.includes('blocked navigation')).length).toBe(6);
  });

  it('lets the app reload its own index page (with any route in the fragment)', () => {
    const { contents } = guarded();
    expect(contents.navigate(indexUrl)).toBe(true);
    expect(contents.navigate(`${indexUrl}#/jobs`)).toBe(true);
  });

  it('prevents <webview> from attaching', () => {
    const { contents } = guarded();
    const event = new FakePreventable();
    contents.emit('will-attach-webview', event, {}, { src: 'https://evil.example/' });
    expect(event.defaultPrevented).toBe(true);
  });
});
