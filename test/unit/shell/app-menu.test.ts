import { describe, expect, it, vi } from 'vitest';
import { buildAppMenuTemplate, documentationUrl } from '../../../electron/shell/app-menu';
import { findMenuItem } from './fake-electron';

describe('buildAppMenuTemplate', () => {
  it('has File, Edit, View, Window and Help', () => {
    const template = buildAppMenuTemplate({ platform: 'linux', isProduction: true, openExternal: async () => true });
    expect(template.map((item) => item.label)).toEqual(['File', 'Edit', 'View', 'Window', 'Help']);
  });

  it('puts the application menu first on macOS', () => {
    const template = buildAppMenuTemplate({ platform: 'darwin', isProduction: true, openExternal: async () => true });
    expect(template[0]?.role).toBe('appMenu');
    expect(template.slice(1).map((item) => item.label)).toEqual(['File', 'Edit', 'View', 'Window', 'Help']);
  });

  it('opens the documentation through the openExternal helper', () => {
    const openExternal = vi.fn(async () => true);
    const template = buildAppMenuTemplate({ platform: 'win32', isProduction: true, openExternal });
    (findMenuItem(template, 'documentation')?.click as () => void)();
    expect(openExternal).toHaveBeenCalledWith(documentationUrl);
    expect(documentationUrl.startsWith('https://')).toBe(true);
  });

  it('offers DevTools only in development', () => {
    const roles = (isProduction: boolean): unknown[] => {
      const view = buildAppMenuTemplate({ platform: 'linux', isProduction, openExternal: async () => true }).find((item) => item.label === 'View');
      return Array.isArray(view?.submenu) ? view.submenu.map((item) => ('role' in item ? item.role : undefined)) : [];
    };
    expect(roles(true)).not.toContain('toggleDevTools');
    expect(roles(false)).toContain('toggleDevTools');
  });
});
