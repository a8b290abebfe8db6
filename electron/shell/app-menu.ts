import type { MenuItemConstructorOptions } from 'electron';
import type { OpenExternal } from './open-external';

/** Where Help → Documentation points. Placeholder until the project publishes its docs site. */
export const documentationUrl = 'https://github.com/torsh-depot/torsh-depot#readme';

export interface AppMenuOptions {
  platform: NodeJS.Platform;
  isProduction: boolean;
  openExternal: OpenExternal;
  documentationUrl?: string;
}

/** File / Edit / View / Window / Help, with the macOS application menu first on macOS. */
export function buildAppMenuTemplate(options: AppMenuOptions): MenuItemConstructorOptions[] {
  const isMac = options.platform === 'darwin';
  const docs = options.documentationUrl ?? documentationUrl;
  const macAppMenu: MenuItemConstructorOptions[] = isMac ? [{ label: 'Torsh Depot', role: 'appMenu' }] : [];
  return [
    ...macAppMenu,
    {
      label: 'File',
      submenu: [isMac ? { role: 'close' } : { role: 'quit', label: 'Quit' }],
    },
    { label: 'Edit', role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        // DevTools only in development: the production window is built without them anyway.
        ...(options.isProduction ? [] : ([{ role: 'forceReload' }, { role: 'toggleDevTools' }] satisfies MenuItemConstructorOptions[])),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { label: 'Window', role: 'windowMenu' },
    {
      label: 'Help',
      role: 'help',
      submenu: [{ id: 'documentation', label: 'Documentation', click: () => void options.openExternal(docs) }],
    },
  ];
}
