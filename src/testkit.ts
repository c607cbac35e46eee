import { isScanmeshError, type ErrorCode } from './errors.ts';

/** What tests assert on: the stable code a call fails with, or 'no error'. */
export function codeOf(fn: () => unknown): ErrorCode | 'no error' {
  try {
    fn();
  } catch (err) {
    if (isScanmeshError(err)) return err.code;
    throw err;
  }
  return 'no error';
}
