import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DepotError } from '../../../shared/errors';

/**
 * Resolves a `${ENV_NAME}` or `file:/path` reference (config-values.ts) to the secret itself.
 * The error names the reference, never a value. A `file:` secret must not be readable by others.
 */
export async function resolveSecretReference(reference: string, options: { env?: NodeJS.ProcessEnv; baseDir?: string } = {}): Promise<string> {
  const env = options.env ?? process.env;
  const variable = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(reference);
  if (variable?.[1]) {
    const value = env[variable[1]];
    if (value === undefined || value === '') throw new DepotError('VALIDATION_FAILED', `The secret ${reference} is not set in the environment.`, { reason: 'secret-missing' });
    return value;
  }
  if (reference.startsWith('file:')) {
    const file = path.resolve(options.baseDir ?? process.cwd(), reference.slice('file:'.length));
    let mode: number;
    try {
      mode = (await stat(file)).mode;
    } catch {
      throw new DepotError('VALIDATION_FAILED', `The secret file ${file} cannot be read.`, { reason: 'secret-missing' });
    }
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new DepotError('VALIDATION_FAILED', `The secret file ${file} is readable by other users; chmod 600 it.`, { reason: 'secret-permissions' });
    }
    const value = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    if (value === '') throw new DepotError('VALIDATION_FAILED', `The secret file ${file} is empty.`, { reason: 'secret-missing' });
    return value;
  }
  throw new DepotError('VALIDATION_FAILED', 'A secret is written as ${ENV_NAME} or file:/path, never inline.', { reason: 'secret-inline' });
}
