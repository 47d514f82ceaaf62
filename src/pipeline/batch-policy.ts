/**
 * When to close a batch. Batches hold whole source transactions; they close when the source
 * has nothing more to send right now (low lag when idle) or when they are large or old (high
 * throughput under load: the merge cost per change falls as batches grow, and dedup removes
 * repeated changes to hot keys).
 */

/** Limits of one batch. */
export interface BatchPolicy {
  /**
   * Close after this many row changes (default 20 000). Batches overlap (one merges while the
   * next decodes), so smaller batches keep both busy; much smaller ones pay the per-batch merge
   * cost too often. On `npm run bench` catch-up took 5.6 s at 20 000, 6.5–7 s at 100 000 and
   * 7.4–8.2 s at 5 000.
   */
  readonly maxChanges: number;
  /** Close when the batch has been open this long, in ms (default 2 000). */
  readonly maxAgeMs: number;
  /** Close when no message arrived for this long, in ms (default 25): the source is idle. */
  readonly idleMs: number;
}

/** The defaults described on {@link BatchPolicy}. */
export const DEFAULT_BATCH_POLICY: BatchPolicy = { maxChanges: 20_000, maxAgeMs: 2_000, idleMs: 25 };

/** True when a batch of `changes` opened at `openedAt` (ms since epoch) should close now. */
export function batchFull(policy: BatchPolicy, changes: number, openedAt: number, now = Date.now()): boolean {
  return changes >= policy.maxChanges || now - openedAt >= policy.maxAgeMs;
}
