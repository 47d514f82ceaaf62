/**
 * What a sink reports for `cdc status` (the shapes every dialect's status reader returns).
 */

/** A stored partition position and how long ago it moved. */
export interface StoredPosition {
  readonly partition: string;
  readonly position: bigint;
  /** For people: `16/B374D848`, `seq 42`, `orders/3 offset 42`. */
  readonly text: string;
  /** Seconds since it was written. */
  readonly ageSeconds: number;
}

/** One table of a pipeline on the target. */
export interface TableStatus {
  /** `schema.table` as the target names it (for people: ambiguous when a name holds a dot; see `schema` and `name`). */
  readonly table: string;
  /** The table's schema, exactly. */
  readonly schema: string;
  /** The table's name, exactly. */
  readonly name: string;
  /** Snapshot state: `pending`, `copying` or `done`. */
  readonly snapshot: string;
  readonly rows: number;
  readonly mergeCount: number;
  /** ISO time of the last merge, or null. */
  readonly lastMerge: string | null;
  readonly lastMergeRows: number | null;
}

/** A pipeline as its target records it. */
export interface TargetStatus {
  readonly positions: readonly StoredPosition[];
  readonly tables: readonly TableStatus[];
}

/** The merge state of a target's tables, as `cdc status --target URL` shows it. */
export interface MergeStatusReport {
  readonly tables: readonly {
    schema_name: string;
    table_name: string;
    /** MERGING, PENDING, BATCHING or IDLE. */
    status: string;
    has_changes: boolean;
    is_merging: boolean;
    seconds_since_change: string | null;
    merge_count: string;
    last_merge_time: Date | null;
    last_merge_duration_ms: number | null;
    last_merge_rows: string | null;
    last_error: string | null;
  }[];
  readonly recentErrors: readonly { occurred_at: Date; schema_name: string | null; table_name: string | null; error_code: string | null; message: string }[];
  readonly lag: readonly { pipeline: string; merged_position: string | null; seconds_since_update: string; last_batch_at: Date | null; changes_last_hour: string }[];
  readonly gaps: readonly { pipeline: string; gap_start: Date; gap_end: Date; gap_seconds: string }[];
}
