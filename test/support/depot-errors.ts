import { expect } from 'vitest';
import { DepotError } from '../../shared/errors';

/** The DepotError a promise rejects with (fails the test if it resolves or throws something else). */
export async function caught(promise: Promise<unknown>): Promise<DepotError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DepotError);
  return error as DepotError;
}

/** The DepotError a synchronous call throws. */
export function thrown(action: () => unknown): DepotError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DepotError);
    return error as DepotError;
  }
  throw new Error('expected a DepotError');
}
