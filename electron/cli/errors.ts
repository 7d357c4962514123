/**
 * Errors the user can fix. The CLI prints their message on one line, without a stack trace,
 * and exits with status 2. Anything else is a bug and prints its stack.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Error classes from core whose messages are written for users. */
const USER_ERROR_NAMES = new Set(['UserError', 'InvalidIdError', 'RootError', 'LogWriteError', 'TmuxError', 'ConfigError', 'RegexError', 'TimeBoundError', 'SearchQueryError', 'ExportError', 'ReplayError', 'ImportError', 'StoreAgentError', 'StoreCacheError', 'StoreUrlError', 'StoreUserError', 'TokenFileError']);

export function isUserError(err: unknown): err is Error {
  return err instanceof Error && USER_ERROR_NAMES.has(err.name);
}
