import { isEventName, isRequestChannel } from '../../shared/contract/channels';
import { ipcChannelFor, ipcEventChannel, responseResultSchema, type DesktopBridge, type ResponseResult } from '../../shared/contract/wire';

/** The part of Electron's `ipcRenderer` the bridge uses; it is never handed to the page itself. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * The only surface the sandboxed page can reach. Channels outside the contract are refused here,
 * before any IPC message exists; the main process checks again (sender and input) on its side.
 */
/** Electron's `webUtils`: dropped File objects no longer carry `.path`. */
export interface WebUtilsLike {
  getPathForFile(file: File): string;
}

export function createDesktopBridge(ipcRenderer: IpcRendererLike, webUtils?: WebUtilsLike): DesktopBridge {
  const bridge: DesktopBridge = {
    async invoke(channel: string, input: unknown): Promise<ResponseResult> {
      if (!isRequestChannel(channel)) {
        return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: `Unknown channel: ${String(channel).slice(0, 100)}` } };
      }
      let answer: unknown;
      try {
        answer = await ipcRenderer.invoke(ipcChannelFor(channel), input);
      } catch {
        // Electron's rejection text names main-process internals: keep it out of the page.
        return { ok: false, error: { code: 'UNAVAILABLE', message: `The core did not answer ${channel}.` } };
      }
      const parsed = responseResultSchema.safeParse(answer);
      return parsed.success ? parsed.data : { ok: false, error: { code: 'INTERNAL', message: `Malformed answer for ${channel}.` } };
    },
    onEvent(listener: (event: string, payload: unknown) => void): () => void {
      // The IpcRendererEvent (it carries `sender`, i.e. ipcRenderer) never reaches the page.
      const handler = (_ipcEvent: unknown, ...args: unknown[]): void => {
        const [event, payload] = args;
        if (isEventName(event)) listener(event, payload);
      };
      ipcRenderer.on(ipcEventChannel, handler);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        ipcRenderer.removeListener(ipcEventChannel, handler);
      };
    },
    pathForFile(file: File): string | null {
      try {
        const found = webUtils?.getPathForFile(file) ?? '';
        return found === '' ? null : found;
      } catch {
        return null;
      }
    },
  };
  return Object.freeze(bridge);
}
