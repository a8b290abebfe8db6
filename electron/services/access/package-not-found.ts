import { DepotError } from '../../../shared/errors';

/**
 * The one answer for a package that does not exist, and for one the caller may not see: the same
 * status, code, message and reason, so a guess at a private name learns nothing.
 */
export function packageNotFound(name: string): DepotError {
  return new DepotError('NOT_FOUND', `No package named ${name}.`, { reason: 'not-found' });
}
