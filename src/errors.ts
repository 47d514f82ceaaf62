/**
 * Errors with a code, a remedy and a cause (see docs/errors.md for the table of codes).
 * Exit codes are decided only by the CLI, from {@link CdcError.exitCode}.
 */
import { redactText } from './redact.js';

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
  /**
   * Tables whose target copy no longer describes them (the source cannot express what happened
   * as row changes): the pipeline marks their copies not done before it reports the error, so
   * the next start copies them again.
   */
  readonly recopy?: readonly { readonly schema: string; readonly name: string }[];
}

/** An error the user can act on: `code` is stable and documented, `remedy` says what to do. */
export class CdcError extends Error {
  readonly code: string;
  readonly remedy: string | undefined;
  readonly context: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;
  /** See {@link CdcErrorOptions.recopy}; empty for most errors. */
  readonly recopy: readonly { readonly schema: string; readonly name: string }[];

  constructor(code: string, message: string, options: CdcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CdcError';
    this.code = code;
    this.remedy = options.remedy;
    this.context = options.context ?? {};
    this.retryable = options.retryable ?? false;
    this.recopy = options.recopy ?? [];
  }
}

/** SQLSTATE of a PostgreSQL error from `pg`, or undefined. */
export function sqlState(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code)) {
    return error.code;
  }
  return undefined;
}

/**
 * A connection URL without its secrets, for messages and logs: the password
 * (`postgres://u:***@h/db`), a NATS token (`nats://***@h`), and secret query parameters
 * (`?password=***`, `sslpassword`, `token`, …). The rest is kept as written. See `redactText`.
 */
export function redactUrl(url: string): string {
  return redactText(url);
}

const RETRYABLE_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * True when trying again later may succeed: a {@link CdcError} marked retryable, a lost
 * connection (Node socket errors, SQLSTATE class 08, server shutdown 57P01–57P03), or a
 * serialization failure or deadlock (40001, 40P01).
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof CdcError) return error.retryable;
  const state = sqlState(error);
  if (state) return state.startsWith('08') || ['57P01', '57P02', '57P03', '40001', '40P01'].includes(state);
  if (error && typeof error === 'object' && 'code' in error && RETRYABLE_NODE_CODES.has(String(error.code))) return true;
  return error instanceof Error && /Connection terminated|connection lost|socket hang up/i.test(error.message);
}
