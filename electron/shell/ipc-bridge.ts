import { requestChannelNames } from '../../shared/contract/channels';
import { ipcChannelFor, ipcEventChannel, type ResponseResult } from '../../shared/contract/wire';
import { toErrorEnvelope } from '../../shared/errors';
import type { EventBus } from '../services/events/event-bus';
import type { Logger } from '../services/logger';
import type { RequestRouter } from '../services/rpc/request-router';
import { isAppIndexUrl } from './app-urls';
import type { BrowserWindowLike, InvokeEventLike, IpcMainLike } from './electron-surface';

export interface IpcBridgeOptions {
  ipcMain: IpcMainLike;
  /** The app's window now (it can be closed and recreated, e.g. on macOS). */
  getWindow: () => BrowserWindowLike | null;
  appIndexUrl: string;
  router: Pick<RequestRouter, 'dispatch'>;
  events: Pick<EventBus, 'subscribe'>;
  logger: Logger;
}

export interface IpcBridge {
  /** The IPC channel names that have a handler. */
  readonly channels: readonly string[];
  dispose(): void;
}

const forbidden: ResponseResult = {
  ok: false,
  error: { code: 'FORBIDDEN', message: 'Requests are accepted only from the Torsh Depot window.' },
};

/**
 * Why a sender is refused, or null when it is the main frame of the app's own window showing the
 * app's index page. Anything else (another webContents, an iframe, a page navigated elsewhere, a
 * frame already gone) could be content we do not control.
 */
export function untrustedSenderReason(event: InvokeEventLike, window: BrowserWindowLike | null, appIndexUrl: string): string | null {
  if (window === null || window.isDestroyed() || window.webContents.isDestroyed()) return 'no app window';
  const contents = window.webContents;
  if (event.sender.id !== contents.id) return 'sender is not the app window';
  const frame = event.senderFrame;
  if (frame === null) return 'sender frame is gone';
  const main = contents.mainFrame;
  if (frame.parent !== null || frame.processId !== main.processId || frame.routingId !== main.routingId) return 'sender is not the main frame';
  if (!isAppIndexUrl(frame.url, appIndexUrl)) return 'sender frame is not showing the app';
  return null;
}

/**
 * One `ipcMain.handle` per contract request channel (derived from the contract, never listed by
 * hand), each checking its sender before the router sees anything; and core events forwarded to
 * the window while it is alive.
 */
export function registerIpcBridge(options: IpcBridgeOptions): IpcBridge {
  const { ipcMain, logger } = options;
  const channels = requestChannelNames.map((channel) => ipcChannelFor(channel));

  for (const channel of requestChannelNames) {
    ipcMain.handle(ipcChannelFor(channel), async (event, input): Promise<ResponseResult> => {
      const reason = untrustedSenderReason(event, options.getWindow(), options.appIndexUrl);
      if (reason !== null) {
        logger.warn(`refused IPC request on ${channel}: ${reason}`);
        return forbidden;
      }
      try {
        return await options.router.dispatch(channel, input, { origin: 'desktop' });
      } catch (error) {
        // The router answers with envelopes; this only guards against a bug turning into a rejection.
        logger.error(`IPC request on ${channel} failed`, error);
        return { ok: false, error: toErrorEnvelope(error) };
      }
    });
  }

  const unsubscribe = options.events.subscribe((event, payload) => {
    const window = options.getWindow();
    if (window === null || window.isDestroyed() || window.webContents.isDestroyed()) return;
    window.webContents.send(ipcEventChannel, event, payload);
  });

  let disposed = false;
  return {
    channels,
    dispose() {
      if (disposed) return;
      disposed = true;
      unsubscribe();
      for (const channel of channels) ipcMain.removeHandler(channel);
    },
  };
}
