/**
 * Errors with a code, a remedy and a cause (see docs/errors.md for the table of codes).
 * Exit codes are decided only by the CLI, from {@link CdcError.exitCode}.
 */

/** Options for {@link CdcError}. */
export interface CdcErrorOptions {
  /** What the user should do about it, one sentence. */
  readonly remedy?: string;
  /** Where: table, column, file, line, URL without password… */
  readonly context?: Readonly<Record<string, unknown>>;
  /** The error this one explains; always chained. */
  readonly cause?: unknown;
  /** True when retrying the same operation later may succeed (connection lost, …). */
  readonly retryable?: boolean;
}

/** An error the user can act on: `code` is stable and documented, `remedy` says what to do. */
export class CdcError extends Error {
  readonly code: string;
  readonly remedy: string | undefined;
  readonly context: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: CdcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CdcError';
    this.code = code;
    this.remedy = options.remedy;
    this.context = options.context ?? {};
    this.retryable = options.retryable ?? false;
  }
}

/** SQLSTATE of a PostgreSQL error from `pg`, or undefined. */
export function sqlState(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code)) {
    return error.code;
  }
  return undefined;
}

/** Removes the password from a connection URL, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:***@');
  }
}
