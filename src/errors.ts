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
 * serialization failure or deadlock (40001, 40P01). A {@link CdcError} that explains a lost
 * connection (`CONNECTION_LOST` anywhere in its cause chain) is retryable too, whatever its own
 * code: the operation it names did not fail, its connection did.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof CdcError) return error.retryable || causedByLostConnection(error);
  const state = sqlState(error);
  if (state) return state.startsWith('08') || ['57P01', '57P02', '57P03', '40001', '40P01'].includes(state);
  if (error && typeof error === 'object' && 'code' in error && RETRYABLE_NODE_CODES.has(String(error.code))) return true;
  return error instanceof Error && /Connection terminated|connection lost|socket hang up/i.test(error.message);
}

/**
 * True when `error` (not a {@link CdcError}) says a connection was lost: the server ended the
 * session (SQLSTATE 57P01–57P03, class 08), the socket broke (ECONNRESET, EPIPE, …), or `pg`
 * reports its connection terminated or no longer queryable (a later query on a client whose
 * connection dropped while idle).
 */
export function isLostConnection(error: unknown): boolean {
  if (error instanceof CdcError) return false;
  const state = sqlState(error);
  if (state) return state.startsWith('08') || ['57P01', '57P02', '57P03'].includes(state);
  if (error && typeof error === 'object' && 'code' in error && RETRYABLE_NODE_CODES.has(String(error.code))) return true;
  return error instanceof Error && /Connection terminated|connection lost|socket hang up|not queryable|ERR_STREAM_DESTROYED|write after end/i.test(error.message);
}

/**
 * Wraps an error that says a connection was lost ({@link isLostConnection}) as a retryable
 * {@link CdcError} `CONNECTION_LOST` naming the connection (`what`, e.g. `the target at
 * postgres://…` without password); any other error is returned as it is.
 */
export function explainLostConnection(error: unknown, what: string): unknown {
  if (!isLostConnection(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CdcError('CONNECTION_LOST', `lost the connection to ${what}: ${message}`, {
    cause: error,
    retryable: true,
    remedy: 'cdc-merge reconnects with backoff and resumes from the merged position; if it persists, check the server and the network',
  });
}

function causedByLostConnection(error: Error): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof CdcError && e.code === 'CONNECTION_LOST') return true;
  }
  return false;
}
