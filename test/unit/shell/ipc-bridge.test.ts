import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCore } from '../../../electron/services/composition-root';
import { EventBus } from '../../../electron/services/events/event-bus';
import { silentLogger } from '../../../electron/services/logger';
import { MemorySettingsBackend } from '../../../electron/services/settings/settings-backend';
import { appUrlsFor } from '../../../electron/shell/app-urls';
import { registerIpcBridge } from '../../../electron/shell/ipc-bridge';
import { requestChannelNames } from '../../../shared/contract/channels';
import { ipcChannelFor, ipcEventChannel, type ResponseResult } from '../../../shared/contract/wire';
import { makeTempDir } from '../../support/temp-dir';
import { createRecordingLogger, FakeBrowserWindow, FakeFrame, FakeIpcMain } from './fake-electron';

const urls = appUrlsFor('/app/dist/renderer/index.html');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A window showing the app, an ipcMain, and a spy router that records whatever reaches it. */
function setUp() {
  const ipcMain = new FakeIpcMain();
  const window = new FakeBrowserWindow({});
  void window.loadURL(urls.indexUrl);
  let current: FakeBrowserWindow | null = window;
  const dispatch = vi.fn(async (): Promise<ResponseResult> => ({ ok: true, result: 'dispatched' }));
  const events = new EventBus();
  const logger = createRecordingLogger();
  const bridge = registerIpcBridge({ ipcMain, getWindow: () => current, appIndexUrl: urls.indexUrl, router: { dispatch }, events, logger });
  return { ipcMain, window, dispatch, events, logger, bridge, setWindow: (next: FakeBrowserWindow | null) => (current = next) };
}

describe('registerIpcBridge', () => {
  it('registers one handler per contract request channel, and exactly those', () => {
    const { ipcMain, bridge } = setUp();
    const expected = requestChannelNames.map((channel) => ipcChannelFor(channel)).sort();
    expect([...ipcMain.handlers.keys()].sort()).toEqual(expected);
    expect([...bridge.channels].sort()).toEqual(expected);
    bridge.dispose();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('dispatches a request from the app main frame with the desktop origin', async () => {
    const { ipcMain, window, dispatch } = setUp();
    const answer = await ipcMain.invoke(ipcChannelFor('jobs.list'), window.webContents.invokeEvent(), { limit: 5 });
    expect(answer).toEqual({ ok: true, result: 'dispatched' });
    expect(dispatch).toHaveBeenCalledWith('jobs.list', { limit: 5 }, { origin: 'desktop' });
  });

  it('accepts the app page with a client-side route in the fragment', async () => {
    const { ipcMain, window, dispatch } = setUp();
    window.webContents.mainFrame.url = `${urls.indexUrl}#/jobs`;
    expect(await ipcMain.invoke(ipcChannelFor('app.health'), window.webContents.invokeEvent(), {})).toEqual({ ok: true, result: 'dispatched' });
    expect(dispatch).toHaveBeenCalledTimes(1);
  });

  it('refuses foreign senders and frames with FORBIDDEN, without reaching the router', async () => {
    const { ipcMain, window, dispatch, logger, setWindow } = setUp();
    const channel = ipcChannelFor('settings.update');
    const other = new FakeBrowserWindow({});
    void other.loadURL(urls.indexUrl);
    const main = window.webContents.mainFrame;
    const cases: Array<[string, () => ReturnType<typeof window.webContents.invokeEvent>, string]> = [
      ['another webContents showing the same page', () => other.webContents.invokeEvent(), 'not the app window'],
      ['an iframe inside the app window', () => window.webContents.invokeEvent(new FakeFrame(urls.indexUrl, main, main.processId)), 'not the main frame'],
      ['a frame claiming to be top-level but not the main frame', () => window.webContents.invokeEvent(new FakeFrame(urls.indexUrl, null, main.processId)), 'not the main frame'],
      ['a frame that is gone', () => window.webContents.invokeEvent(null), 'frame is gone'],
      [
        'the main frame after navigating elsewhere',
        () => {
          main.url = 'https://evil.example/';
          return window.webContents.invokeEvent();
        },
        'not showing the app',
      ],
      [
        'the main frame showing another local file',
        () => {
          main.url = 'file:///tmp/evil.html';
          return window.webContents.invokeEvent();
        },
        'not showing the app',
      ],
    ];
    for (const [label, event, reason] of cases) {
      const answer = (await ipcMain.invoke(channel, event(), { theme: 'dark' })) as ResponseResult;
      expect(answer, label).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: expect.any(String) } });
      expect(logger.lines.at(-1), label).toContain(reason);
    }
    main.url = urls.indexUrl;
    window.close();
    expect(await ipcMain.invoke(channel, window.webContents.invokeEvent(), {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    setWindow(null);
    expect(await ipcMain.invoke(channel, window.webContents.invokeEvent(), {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(dispatch).not.toHaveBeenCalled();
  });

  it('forwards core events to the window while it is alive, and stops after dispose', () => {
    const { window, events, bridge, setWindow } = setUp();
    const notification = { title: 'Done', body: 'ok', level: 'success' } as const;
    events.emit('notification', notification);
    expect(window.webContents.sent).toEqual([{ channel: ipcEventChannel, args: ['notification', notification] }]);

    window.close();
    expect(() => events.emit('notification', notification)).not.toThrow();
    expect(window.webContents.sent).toHaveLength(1);

    const reopened = new FakeBrowserWindow({});
    setWindow(reopened);
    events.emit('notification', notification);
    expect(reopened.webContents.sent).toHaveLength(1);

    bridge.dispose();
    events.emit('notification', notification);
    expect(reopened.webContents.sent).toHaveLength(1);
  });

  it('round-trips a valid request through a real core', async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    const core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'desktop', settingsBackend: new MemorySettingsBackend(), logger: silentLogger });
    cleanups.push(() => core.close());
    const ipcMain = new FakeIpcMain();
    const window = new FakeBrowserWindow({});
    await window.loadURL(urls.indexUrl);
    const bridge = registerIpcBridge({ ipcMain, getWindow: () => window, appIndexUrl: urls.indexUrl, router: core.router, events: core.events, logger: silentLogger });
    cleanups.push(() => bridge.dispose());

    const health = (await ipcMain.invoke(ipcChannelFor('app.health'), window.webContents.invokeEvent(), {})) as ResponseResult;
    expect(health).toMatchObject({ ok: true, result: { status: 'ok', shell: 'desktop', runningJobs: 0 } });

    const invalid = (await ipcMain.invoke(ipcChannelFor('settings.update'), window.webContents.invokeEvent(), { theme: 'purple' })) as ResponseResult;
    expect(invalid).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });

    const updated = (await ipcMain.invoke(ipcChannelFor('settings.update'), window.webContents.invokeEvent(), { theme: 'dark' })) as ResponseResult;
    expect(updated).toMatchObject({ ok: true, result: { theme: 'dark' } });

    // A job started over IPC reports back to the window through the event channel.
    const started = (await ipcMain.invoke(ipcChannelFor('jobs.start'), window.webContents.invokeEvent(), { kind: 'data-folder-check', params: { sizeMiB: 1 } })) as ResponseResult;
    expect(started).toMatchObject({ ok: true, result: { kind: 'data-folder-check' } });
    await vi.waitFor(() => {
      const names = window.webContents.sent.map((message) => message.args[0]);
      expect(names).toContain('jobs.updated');
      expect(names).toContain('notification');
    });
    expect(window.webContents.sent.every((message) => message.channel === ipcEventChannel)).toBe(true);
  });
});
