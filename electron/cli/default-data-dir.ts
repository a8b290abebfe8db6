import os from 'node:os';
import path from 'node:path';

/**
 * The desktop app's data folder (Electron's appData + "Torsh Depot/data"), so `torsh-depot serve`
 * and the desktop app find the same registry by default. The data folder lock keeps them from
 * running on it at the same time.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const appData =
    platform === 'win32'
      ? (env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'))
      : platform === 'darwin'
        ? path.join(os.homedir(), 'Library', 'Application Support')
        : (env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'));
  return path.join(appData, 'Torsh Depot', 'data');
}
