import { describe, expect, it, vi } from 'vitest';
import { createDesktopBridge } from '../../../electron/shell/preload-bridge';
import { requestChannelNames } from '../../../shared/contract/channels';
import { ipcChannelFor, ipcEventChannel } from '../../../shared/contract/wire';
import { FakeIpcRenderer } from './fake-electron';

describe('createDesktopBridge (preload)', () => {
  it('refuses channels outside the contract without sending any IPC message', async () => {
    const ipcRenderer = new FakeIpcRenderer();
    const bridge = createDesktopBridge(ipcRenderer);
    for (const channel of ['no.such.channel', '__proto__', 'constructor', 'toString', ipcChannelFor('app.health'), 'electron-store-get-data', '']) {
      expect(await bridge.invoke(channel, {}), channel).toEqual({ ok: false, error: { code: 'UNKNOWN_CHANNEL', message: expect.any(String) } });
    }
    // A page could pass anything through the context bridge, not only strings.
    expect(await bridge.invoke(42 as unknown as string, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    expect(ipcRenderer.invoked).toEqual([]);
  });

  it('sends every contract channel on its IPC channel with the input only', async () => {
    const ipcRenderer = new FakeIpcRenderer();
    ipcRenderer.answer = async (channel) => ({ ok: true, result: channel });
    const bridge = createDesktopBridge(ipcRenderer);
    for (const channel of requestChannelNames) {
      expect(await bridge.invoke(channel, { some: 'input' })).toEqual({ ok: true, result: ipcChannelFor(channel) });
    }
    expect(ipcRenderer.invoked).toEqual(requestChannelNames.map((channel) => ({ channel: ipcChannelFor(channel), args: [{ some: 'input' }] })));
  });

  it('turns a failed or malformed answer into a typed envelope', async () => {
    const ipcRenderer = new FakeIpcRenderer();
    const bridge = createDesktopBridge(ipcRenderer);
    ipcRenderer.answer = async () => {
      throw new Error("Error invoking remote method 'torsh-depot:app.health': internal detail");
    };
    const failed = await bridge.invoke('app.health', {});
    expect(failed).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    expect(JSON.stringify(failed)).not.toContain('internal detail');
    ipcRenderer.answer = async () => 'not a response';
    expect(await bridge.invoke('app.health', {})).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('passes events as (name, payload) only, never the IpcRendererEvent, and unsubscribes', () => {
    const ipcRenderer = new FakeIpcRenderer();
    const bridge = createDesktopBridge(ipcRenderer);
    const listener = vi.fn();
    const unsubscribe = bridge.onEvent(listener);
    const payload = { title: 't', body: 'b', level: 'info' };
    ipcRenderer.deliver(ipcEventChannel, 'notification', payload);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener.mock.calls[0]).toEqual(['notification', payload]);

    // Names outside the contract are dropped.
    ipcRenderer.deliver(ipcEventChannel, 'not.an.event', payload);
    expect(listener).toHaveBeenCalledTimes(1);

    unsubscribe();
    unsubscribe();
    ipcRenderer.deliver(ipcEventChannel, 'notification', payload);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(ipcRenderer.listeners.get(ipcEventChannel)).toEqual([]);
  });

  it('exposes only invoke, onEvent and pathForFile, frozen', () => {
    const bridge = createDesktopBridge(new FakeIpcRenderer());
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'onEvent', 'pathForFile']);
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('gives the path of a dropped file through webUtils, or null', () => {
    const file = { name: 'a.torshpkg' } as unknown as File;
    expect(createDesktopBridge(new FakeIpcRenderer(), { getPathForFile: () => '/home/u/a.torshpkg' }).pathForFile(file)).toBe('/home/u/a.torshpkg');
    expect(createDesktopBridge(new FakeIpcRenderer(), { getPathForFile: () => '' }).pathForFile(file)).toBeNull();
    expect(createDesktopBridge(new FakeIpcRenderer()).pathForFile(file)).toBeNull();
  });
});
