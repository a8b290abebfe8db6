import os from 'node:os';
import path from 'node:path';

/** The platform's usual place for application data, as the desktop app uses too. */
export function defaultDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'Torsh Depot', 'data');
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Torsh Depot', 'data');
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'torsh-depot');
}
