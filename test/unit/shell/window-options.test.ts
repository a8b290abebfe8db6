import { describe, expect, it } from 'vitest';
import { createWindowOptions } from '../../../electron/shell/window-options';

describe('createWindowOptions', () => {
  it('builds a sandboxed, context-isolated window without Node.js', () => {
    const options = createWindowOptions({ preloadFile: '/app/dist/electron/preload.cjs', isProduction: true });
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist/electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      devTools: false,
    });
    // Shown on ready-to-show, not before.
    expect(options.show).toBe(false);
  });

  it('allows DevTools only in development', () => {
    expect(createWindowOptions({ preloadFile: '/p.cjs', isProduction: false }).webPreferences?.devTools).toBe(true);
    expect(createWindowOptions({ preloadFile: '/p.cjs', isProduction: true }).webPreferences?.devTools).toBe(false);
  });

  it('refuses a relative preload path (it would resolve against an unknown working directory)', () => {
    expect(() => createWindowOptions({ preloadFile: 'preload.cjs', isProduction: true })).toThrow(/absolute/);
  });
});
