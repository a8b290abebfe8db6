import path from 'node:path';
import type { BrowserWindowConstructorOptions } from 'electron';

export interface WindowOptionsInput {
  /** Absolute path of the bundled preload (dist/electron/preload.cjs). */
  preloadFile: string;
  /** Packaged builds ship without DevTools. */
  isProduction: boolean;
  /** Window icon (Linux and Windows; macOS uses the bundle's icon). */
  iconFile?: string;
}

/**
 * The main window's options, following Electron's security checklist: the renderer is a sandboxed,
 * context-isolated web page with no Node.js, and reaches the core only through the preload bridge.
 */
export function createWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  if (!path.isAbsolute(input.preloadFile)) throw new Error(`The preload path must be absolute, got ${input.preloadFile}`);
  return {
    title: 'Torsh Depot',
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    // Shown on 'ready-to-show' so the user never sees an empty white frame.
    show: false,
    backgroundColor: '#1b2440',
    ...(input.iconFile === undefined ? {} : { icon: input.iconFile }),
    webPreferences: {
      preload: input.preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: true,
      devTools: !input.isProduction,
    },
  };
}
