// The exit-2 refusal a check must make: runs `fn`, expects a PilotError of bad input, returns it for its message.
import { expect } from 'vitest';
import { PilotError } from '../../src/model/errors.js';

export function refusal(fn: () => unknown): PilotError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).exitCode).toBe(2);
    return err as PilotError;
  }
  throw new Error('expected a refusal');
}
