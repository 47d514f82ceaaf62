/**
 * The wait of a broker transport's `fetch` for messages that a client library delivers by
 * callback or stream into the transport's own buffer.
 */

/** Lets one waiter sleep until messages arrive (or the consumer ends), at most a given time. */
export class ArrivalSignal {
  private wake: (() => void) | undefined;

  /** Something arrived or the consumer ended: ends the current {@link wait}, if any. */
  notify(): void {
    this.wake?.();
  }

  /** Resolves at the next {@link notify}, or after `ms` milliseconds. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
