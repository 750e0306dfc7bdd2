// Runs in the renderer. The error every failed call becomes, so the UI can show its sentence.
import type { ApiErrorShape, ErrorCode } from '../../preload/api';

export class ApiError extends Error {
  readonly code: ErrorCode;
  constructor(shape: ApiErrorShape) {
    super(shape.message);
    this.name = 'ApiError';
    this.code = shape.code;
  }
}

/** The sentence to show a reader for any thrown value; never a stack or a file path. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return 'Resight hit an unexpected problem in this window. Your saved work is safe; try again.';
}

export const UNREACHABLE: ApiErrorShape = {
  code: 'INTERNAL',
  message: 'Resight could not reach its local service. Check that it is still running, then try again.',
};

export const UNEXPECTED_REPLY: ApiErrorShape = {
  code: 'INTERNAL',
  message: 'Resight received a reply it did not expect. Reload the window; if it repeats, report it.',
};
