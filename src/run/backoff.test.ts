import { afterEach, describe, expect, it, vi } from 'vitest';
import { CdcError } from '../errors.js';
import { abortableDelay, Backoff, retryWithBackoff, type RetryNotice } from './backoff.js';

const lost = () => new CdcError('CONNECTION_LOST', 'connection lost', { retryable: true });

/**
 * A fake clock and sleep: sleeping advances the clock and records the delay, without waiting.
 * `sleep` honours an abort the way abortableDelay does.
 */
function fakeTime() {
  let nowMs = 0;
  const delays: number[] = [];
  return {
    delays,
    now: () => nowMs,
    advance: (ms: number) => void (nowMs += ms),
    sleep: (ms: number, signal?: AbortSignal): Promise<void> => {
      signal?.throwIfAborted();
      delays.push(ms);
      nowMs += ms;
      return Promise.resolve();
    },
  };
}

/** An attempt that fails with `errors` in turn, then resolves to 'done'. */
function failing(...errors: Error[]) {
  const calls: number[] = [];
  const attempt = ({ attempt }: { attempt: number }): Promise<string> => {
    calls.push(attempt);
    const error = errors.shift();
    return error === undefined ? Promise.resolve('done') : Promise.reject(error);
  };
  return { attempt, calls };
}

describe('Backoff', () => {
  it('doubles from 1 s up to the 30 s cap, and starts over after a reset', () => {
    const backoff = new Backoff();
    const delays = Array.from({ length: 8 }, () => backoff.nextDelayMs());
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    backoff.reset();
    expect([backoff.nextDelayMs(), backoff.nextDelayMs()]).toEqual([1_000, 2_000]);
  });

  it('takes another first delay, cap and multiplier', () => {
    const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 3 });
    expect(Array.from({ length: 5 }, () => backoff.nextDelayMs())).toEqual([100, 300, 900, 1_000, 1_000]);
  });

  it('stays at the cap however long the outage lasts (no overflow to Infinity or NaN)', () => {
    const backoff = new Backoff();
    for (let i = 0; i < 5_000; i++) backoff.nextDelayMs();
    expect(backoff.nextDelayMs()).toBe(30_000);
  });

  it('rejects a policy that cannot work', () => {
    expect(() => new Backoff({ initialDelayMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialDelayMs: Number.NaN })).toThrow(RangeError);
    expect(() => new Backoff({ initialDelayMs: 5_000, maxDelayMs: 1_000 })).toThrow(/maxDelayMs must be at least initialDelayMs/);
    expect(() => new Backoff({ multiplier: 0.5 })).toThrow(/multiplier/);
    expect(() => new Backoff({ healthyAfterMs: -1 })).toThrow(/healthyAfterMs/);
  });
});

describe('abortableDelay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after the delay', async () => {
    vi.useFakeTimers();
    let done = false;
    const wait = abortableDelay(5_000, new AbortController().signal).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await wait;
    expect(done).toBe(true);
  });

  it('rejects at once with the abort reason, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const wait = abortableDelay(3_600_000, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    const reason = new Error('stopping');
    controller.abort(reason);
    await expect(wait).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects without waiting when the signal is already aborted (an AbortError by default)', async () => {
    vi.useFakeTimers();
    const wait = abortableDelay(1_000, AbortSignal.abort());
    await expect(wait).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('retryWithBackoff', () => {
  it('retries retryable failures after 1 s, 2 s, 4 s and returns the result', async () => {
    const time = fakeTime();
    const { attempt, calls } = failing(lost(), lost(), lost());
    const notices: RetryNotice[] = [];
    const result = await retryWithBackoff(attempt, { sleep: time.sleep, now: time.now, onRetry: (n) => notices.push(n) });
    expect(result).toBe('done');
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(time.delays).toEqual([1_000, 2_000, 4_000]);
    expect(notices.map((n) => [n.attempt, n.consecutiveFailures, n.delayMs])).toEqual([
      [1, 1, 1_000],
      [2, 2, 2_000],
      [3, 3, 4_000],
    ]);
    expect(notices[0]!.error).toBeInstanceOf(CdcError);
  });

  it('rethrows an error that is not retryable at once', async () => {
    const time = fakeTime();
    const fatal = new CdcError('CONFIG_INVALID', 'bad config');
    const { attempt, calls } = failing(lost(), fatal);
    await expect(retryWithBackoff(attempt, { sleep: time.sleep, now: time.now })).rejects.toBe(fatal);
    expect(calls).toEqual([1, 2]);
    expect(time.delays).toEqual([1_000]);
  });

  it('asks the given predicate which errors are retryable', async () => {
    const time = fakeTime();
    const { attempt } = failing(new Error('odd'), new Error('odd'));
    const result = await retryWithBackoff(attempt, { sleep: time.sleep, now: time.now, retryable: (e) => (e as Error).message === 'odd' });
    expect(result).toBe('done');
    expect(time.delays).toEqual([1_000, 2_000]);
  });

  it('gives up with the last error after maxConsecutiveFailures', async () => {
    const time = fakeTime();
    const errors = [lost(), lost(), lost(), lost()];
    const { attempt, calls } = failing(...errors);
    await expect(retryWithBackoff(attempt, { sleep: time.sleep, now: time.now, maxConsecutiveFailures: 3 })).rejects.toBe(errors[2]);
    expect(calls).toEqual([1, 2, 3]);
    expect(time.delays).toEqual([1_000, 2_000]);
  });

  it('starts over at the first delay, and recounts failures, after an attempt that reported healthy()', async () => {
    const time = fakeTime();
    const notices: RetryNotice[] = [];
    let n = 0;
    const result = await retryWithBackoff(
      ({ healthy }) => {
        n++;
        if (n === 4) healthy(); // e.g. streaming started, then the connection dropped
        return n < 6 ? Promise.reject(lost()) : Promise.resolve(n);
      },
      { sleep: time.sleep, now: time.now, onRetry: (x) => notices.push(x), maxConsecutiveFailures: 4 },
    );
    expect(result).toBe(6);
    expect(time.delays).toEqual([1_000, 2_000, 4_000, 1_000, 2_000]);
    expect(notices.map((x) => x.consecutiveFailures)).toEqual([1, 2, 3, 1, 2]);
  });

  it('starts over at the first delay after an attempt that ran at least healthyAfterMs', async () => {
    const time = fakeTime();
    let n = 0;
    await retryWithBackoff(
      () => {
        n++;
        if (n === 4) time.advance(60_000); // ran a minute before failing
        if (n === 5) time.advance(59_999); // not quite
        return n < 7 ? Promise.reject(lost()) : Promise.resolve();
      },
      { sleep: time.sleep, now: time.now },
    );
    expect(time.delays).toEqual([1_000, 2_000, 4_000, 1_000, 2_000, 4_000]);
  });

  it('takes the policy', async () => {
    const time = fakeTime();
    const { attempt } = failing(lost(), lost(), lost());
    await retryWithBackoff(attempt, { sleep: time.sleep, now: time.now, policy: { initialDelayMs: 10, maxDelayMs: 15 } });
    expect(time.delays).toEqual([10, 15, 15]);
  });

  it('aborts a pending wait at once with the abort reason, and makes no further attempt', async () => {
    // Real time, default sleep: a one-hour delay that the abort must cut short.
    const controller = new AbortController();
    const { attempt, calls } = failing(lost(), lost());
    const started = performance.now();
    const run = retryWithBackoff(attempt, {
      signal: controller.signal,
      policy: { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
      onRetry: () => setImmediate(() => controller.abort(new Error('SIGTERM'))),
    });
    await expect(run).rejects.toThrow('SIGTERM');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(calls).toEqual([1]);
  });

  it('makes no attempt when the signal is already aborted', async () => {
    const { attempt, calls } = failing();
    await expect(retryWithBackoff(attempt, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toEqual([]);
  });

  it('does not retry an attempt that failed after the signal aborted: its error is the result', async () => {
    const time = fakeTime();
    const controller = new AbortController();
    const error = lost();
    const run = retryWithBackoff(
      () => {
        controller.abort();
        return Promise.reject(error);
      },
      { signal: controller.signal, sleep: time.sleep, now: time.now },
    );
    await expect(run).rejects.toBe(error);
    expect(time.delays).toEqual([]);
  });
});
