/**
 * Capped exponential backoff for long-running services (DESIGN.md §3.12, STYLE.md "services"):
 * a lost connection to source, target or broker is retried after 1 s, 2 s, 4 s … up to 30 s; an
 * AbortSignal (Ctrl-C, SIGTERM) ends a wait at once; and once the service has been healthy again
 * the next failure starts over at the first delay, so an incident days later does not wait 30 s.
 *
 * ```ts
 * const result = await retryWithBackoff(
 *   ({ healthy }) => runPipeline({ onStreaming: healthy }),
 *   { signal, onRetry: ({ error, delayMs }) => log.warn({ error, retryInMs: delayMs }, 'retrying') },
 * );
 * ```
 *
 * Time is injectable (`sleep`, `now`), so tests run without waiting.
 */
import { isRetryable } from '../errors.js';

/** How the delays grow. All durations in milliseconds. */
export interface BackoffPolicy {
  /** The first delay, and the delay after a reset. Default 1,000 ms. */
  readonly initialDelayMs: number;
  /** No delay is longer (the cap). Default 30,000 ms. */
  readonly maxDelayMs: number;
  /** Each delay is the previous one times this. Default 2. */
  readonly multiplier: number;
  /**
   * An attempt that ran at least this long before failing counts as healthy: the next delay is
   * the first one again. Default 60,000 ms: longer than the cap, so an endpoint that accepts a
   * connection and drops it within a minute still backs off all the way to the cap.
   */
  readonly healthyAfterMs: number;
}

/** 1 s, 2 s, 4 s … 30 s; healthy after a minute. */
export const DEFAULT_BACKOFF_POLICY: BackoffPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000, multiplier: 2, healthyAfterMs: 60_000 };

/**
 * The delay sequence of a capped exponential backoff: `initialDelayMs × multiplier^n`, capped at
 * `maxDelayMs`, where n counts the delays handed out since the last {@link reset}.
 */
export class Backoff {
  readonly policy: BackoffPolicy;
  private delaysSinceReset = 0;

  /**
   * @param policy overrides of {@link DEFAULT_BACKOFF_POLICY}.
   * @throws {RangeError} when a delay is not a finite number > 0, `maxDelayMs` < `initialDelayMs`,
   *   `multiplier` < 1, or `healthyAfterMs` < 0.
   */
  constructor(policy: Partial<BackoffPolicy> = {}) {
    const p = { ...DEFAULT_BACKOFF_POLICY, ...policy };
    if (!(Number.isFinite(p.initialDelayMs) && p.initialDelayMs > 0)) throw new RangeError(`backoff initialDelayMs must be > 0 ms, not ${p.initialDelayMs}`);
    if (!(Number.isFinite(p.maxDelayMs) && p.maxDelayMs >= p.initialDelayMs)) {
      throw new RangeError(`backoff maxDelayMs must be at least initialDelayMs (${p.initialDelayMs} ms), not ${p.maxDelayMs}`);
    }
    if (!(Number.isFinite(p.multiplier) && p.multiplier >= 1)) throw new RangeError(`backoff multiplier must be >= 1, not ${p.multiplier}`);
    if (!(p.healthyAfterMs >= 0)) throw new RangeError(`backoff healthyAfterMs must be >= 0 ms, not ${p.healthyAfterMs}`);
    this.policy = p;
  }

  /** The next delay, in milliseconds; the one after it is longer, up to the cap. */
  nextDelayMs(): number {
    const { initialDelayMs, maxDelayMs, multiplier } = this.policy;
    const delay = Math.min(maxDelayMs, initialDelayMs * multiplier ** this.delaysSinceReset);
    // Stop counting once capped: the exponent cannot overflow however long the outage lasts.
    if (delay < maxDelayMs) this.delaysSinceReset++;
    return delay;
  }

  /** Starts over: the next delay is `initialDelayMs`. Call when the service is healthy again. */
  reset(): void {
    this.delaysSinceReset = 0;
  }
}

/**
 * Waits `ms` milliseconds, or less when `signal` aborts: then it rejects at once with
 * `signal.reason` (an `AbortError` DOMException unless the caller gave another reason) and
 * clears its timer. Rejects immediately when `signal` is already aborted.
 */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort(this: void): void {
      clearTimeout(timer);
      // The reason exactly as the aborter gave it (an AbortError DOMException by default), as
      // fetch() and signal.throwIfAborted() do: typed any, hence the rule's complaint.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(signal?.reason);
    }
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What {@link retryWithBackoff} passes to each attempt. */
export interface AttemptContext {
  /** 1-based number of this attempt, counting every attempt of the call. */
  readonly attempt: number;
  /**
   * Reports that this attempt reached a healthy state (e.g. the pipeline is streaming): if it
   * fails later, the next delay is the first one again and the failure count starts over. A
   * plain function: pass it on as a callback (`onStreaming: healthy`).
   */
  readonly healthy: () => void;
}

/** One failure that will be retried, for logs and metrics. */
export interface RetryNotice {
  readonly error: unknown;
  /** The attempt that failed (1-based, as {@link AttemptContext.attempt}). */
  readonly attempt: number;
  /** Failures in a row since the last healthy attempt, this one included. */
  readonly consecutiveFailures: number;
  /** How long it waits before the next attempt, in milliseconds. */
  readonly delayMs: number;
}

/** Options of {@link retryWithBackoff}. */
export interface RetryOptions {
  /** Aborting stops at once: no further attempt, and a pending wait rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Overrides of {@link DEFAULT_BACKOFF_POLICY}. */
  readonly policy?: Partial<BackoffPolicy>;
  /** Which errors are worth another attempt. Default {@link isRetryable} (lost connections, …). */
  readonly retryable?: (error: unknown) => boolean;
  /** Gives up, rethrowing the last error, after this many failures in a row (healthy attempts reset the count). Default unlimited. */
  readonly maxConsecutiveFailures?: number;
  /** Called before each wait, e.g. to log a warning and count the error. */
  readonly onRetry?: (notice: RetryNotice) => void;
  /** How to wait (tests inject a fake). Default {@link abortableDelay}; must reject promptly on abort. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A monotonic clock in milliseconds, for `healthyAfterMs` (tests inject a fake). Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * Runs `attempt` until it resolves, retrying retryable failures after capped exponential
 * backoff delays. The delay starts over at the first one after an attempt that called
 * `healthy()` or ran at least `policy.healthyAfterMs` before failing.
 *
 * @returns what the successful attempt resolved to.
 * @throws the attempt's error when it is not retryable, when `maxConsecutiveFailures` is reached,
 *   or when `signal` was aborted while the attempt ran (no retry after an abort).
 * @throws `signal.reason` when `signal` aborts before an attempt or during a wait.
 * @throws {RangeError} for an invalid `policy` (see {@link Backoff}).
 */
export async function retryWithBackoff<T>(attempt: (context: AttemptContext) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { signal, retryable = isRetryable, maxConsecutiveFailures = Infinity, onRetry, sleep = abortableDelay, now = () => performance.now() } = options;
  const backoff = new Backoff(options.policy);
  let consecutiveFailures = 0;
  for (let n = 1; ; n++) {
    signal?.throwIfAborted();
    const state = { healthy: false };
    const startedMs = now();
    try {
      return await attempt({ attempt: n, healthy: () => void (state.healthy = true) });
    } catch (error) {
      if (state.healthy || now() - startedMs >= backoff.policy.healthyAfterMs) {
        backoff.reset();
        consecutiveFailures = 0;
      }
      consecutiveFailures++;
      if (signal?.aborted || !retryable(error) || consecutiveFailures >= maxConsecutiveFailures) throw error;
      const delayMs = backoff.nextDelayMs();
      onRetry?.({ error, attempt: n, consecutiveFailures, delayMs });
      await sleep(delayMs, signal);
    }
  }
}
