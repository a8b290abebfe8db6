import { readFileSync, statSync } from 'node:fs';
import { DepotError } from '../../../shared/errors';

/**
 * Resolves a secret reference from the config file: `${ENV_NAME}` reads the environment, `file:PATH`
 * reads a file only its owner can read (trailing newline dropped). The value never reaches a log.
 */
export function resolveSecretReference(reference: string, env: NodeJS.ProcessEnv = process.env): string {
  const variable = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(reference);
  if (variable?.[1] !== undefined) {
    const value = env[variable[1]];
    if (value === undefined || value === '') throw new DepotError('VALIDATION_FAILED', `The environment variable ${variable[1]} is not set.`, { reason: 'secret-missing' });
    return value;
  }
  if (reference.startsWith('file:')) {
    const file = reference.slice('file:'.length);
    let mode: number;
    try {
      mode = statSync(file).mode;
    } catch {
      throw new DepotError('VALIDATION_FAILED', `The secret file ${file} cannot be read.`, { reason: 'secret-missing' });
    }
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new DepotError('VALIDATION_FAILED', `The secret file ${file} is readable by others: chmod 600 it.`, { reason: 'secret-file-mode' });
    }
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  }
  throw new DepotError('VALIDATION_FAILED', 'A secret is written as ${ENV_NAME} or file:/path, never inline.', { reason: 'secret-inline' });
}
