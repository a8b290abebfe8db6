import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { desktopBridgeKey } from '../shared/contract/wire';
import { createDesktopBridge } from './shell/preload-bridge';

// Sandboxed preload: the page gets the narrow bridge only, never ipcRenderer itself.
contextBridge.exposeInMainWorld(desktopBridgeKey, createDesktopBridge(ipcRenderer, webUtils));
