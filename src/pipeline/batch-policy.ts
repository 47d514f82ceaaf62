/**
 * When to close a batch. Batches hold whole source transactions; they close when the source
 * has nothing more to send right now (low lag when idle) or when they are large or old (high
 * throughput under load: the merge cost per change falls as batches grow, and dedup removes
 * repeated changes to hot keys).
 */

/** Limits of one batch. */
export interface BatchPolicy {
  /** Close after this many row changes (default 100 000). */
  readonly maxChanges: number;
  /** Close when the batch has been open this long, in ms (default 2 000). */
  readonly maxAgeMs: number;
  /** Close when no message arrived for this long, in ms (default 25): the source is idle. */
  readonly idleMs: number;
}

/** The defaults described on {@link BatchPolicy}. */
export const DEFAULT_BATCH_POLICY: BatchPolicy = { maxChanges: 100_000, maxAgeMs: 2_000, idleMs: 25 };

/** True when a batch of `changes` opened at `openedAt` (ms since epoch) should close now. */
export function batchFull(policy: BatchPolicy, changes: number, openedAt: number, now = Date.now()): boolean {
  return changes >= policy.maxChanges || now - openedAt >= policy.maxAgeMs;
}
