/**
 * Whether a pipeline can resume on the slot it finds from what the target holds (DESIGN.md
 * §3.2, §3.11): it never starts streaming over a gap.
 *
 * What the target holds of a table kept (not copied again at this start) reaches up to the later
 * of the merged slot position and the table's snapshot position: every change committed before
 * that is in the target. The slot streams from its `confirmed_flush_lsn`, which a pipeline only
 * moves after the target stored at least as much (the pipeline acknowledges a commit after the
 * sink committed it, and an idle position after the sink recorded it; a new slot starts at the
 * consistent point its snapshot was taken at). So on a healthy target the slot's position is at
 * or below what the target holds of every kept table, and anything else is a gap:
 *
 * - no slot, but the target holds something streamed or copied from one (a dropped slot, a
 *   failover without failover slots, pg_upgrade): SLOT_MISSING;
 * - the slot confirmed past what the target holds (a target restored from a backup, an
 *   asynchronous failover of the target that lost commits): TARGET_BEHIND_SOURCE.
 */
import { CdcError } from '../../errors.js';
import { formatLsn } from '../../events/lsn.js';

/** What {@link checkResume} compares. Positions are bytes of WAL. */
export interface ResumeState {
  /** The pipeline's slot name. */
  readonly slot: string;
  /** The slot's `confirmed_flush_lsn` (0 when not yet set), or null when there is no slot. */
  readonly confirmed: bigint | null;
  /** The target's merged slot position (partition `''`), or undefined when it has none. */
  readonly merged: bigint | undefined;
  /**
   * Snapshot position of every table the target holds a finished copy of, by table name
   * (`schema.table`), whether selected now or not.
   */
  readonly copies: ReadonlyMap<string, bigint>;
  /** Names (as in `copies`) of the tables kept: selected and not copied again at this start. */
  readonly kept: readonly string[];
}

const MAX_NAMED = 5;

/**
 * Throws when streaming from the slot would skip changes the target does not hold.
 * @throws {CdcError} SLOT_MISSING when there is no slot but the target holds a merged position or
 *   a finished table copy; TARGET_BEHIND_SOURCE when the slot confirmed more than the target
 *   holds of a kept table. Both name the positions and the resync command.
 */
export function checkResume(state: ResumeState): void {
  const remedy = `copy every table again with: cdc run --resync --name ${state.slot} (with the same --source and --target)`;
  if (state.confirmed === null) {
    if (state.merged === undefined && state.copies.size === 0) return; // a first run
    const held =
      state.merged !== undefined
        ? `changes merged from it up to ${formatLsn(state.merged)}`
        : `table copies taken from it at ${formatLsn(minimum(state.copies.values()))}`;
    throw new CdcError(
      'SLOT_MISSING',
      `replication slot "${state.slot}" is gone, but the target holds ${held}: what the source committed since then can no longer be streamed (was the slot dropped, or lost in a failover or pg_upgrade?)`,
      { remedy, context: { slot: state.slot, merged: state.merged === undefined ? null : formatLsn(state.merged) } },
    );
  }
  const merged = state.merged ?? 0n;
  const behind: { table: string; holds: bigint }[] = [];
  for (const table of state.kept) {
    const copy = state.copies.get(table) ?? 0n;
    const holds = copy > merged ? copy : merged;
    if (holds < state.confirmed) behind.push({ table, holds });
  }
  if (behind.length === 0) return;
  const holds = minimum(behind.map((b) => b.holds));
  const tables = behind.map((b) => b.table);
  const named = tables.slice(0, MAX_NAMED).join(', ') + (tables.length > MAX_NAMED ? `, … (${tables.length} tables)` : '');
  throw new CdcError(
    'TARGET_BEHIND_SOURCE',
    `the target holds changes up to ${formatLsn(holds)}, but replication slot "${state.slot}" has already confirmed ${formatLsn(state.confirmed)}: ` +
      `what the source committed in between was merged by an earlier run and is no longer in the target (${named}); was the target restored from a backup, or did a failover lose commits?`,
    { remedy, context: { slot: state.slot, targetLsn: formatLsn(holds), confirmedLsn: formatLsn(state.confirmed), tables } },
  );
}

function minimum(values: Iterable<bigint>): bigint {
  let min: bigint | undefined;
  for (const v of values) if (min === undefined || v < min) min = v;
  return min ?? 0n;
}
