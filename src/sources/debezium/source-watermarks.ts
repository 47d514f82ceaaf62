/**
 * Dropping the events a Debezium connector sends twice (DESIGN.md §3.2). A connector is
 * at-least-once: after a crash it resends everything since its last committed offset, and the
 * copies reach the broker as new messages, past the positions the target already holds. The
 * source block tells them apart: within one broker partition, a connector's events arrive in its
 * own log order, so an event whose source position is below the highest one already read from
 * that partition and connector is a copy, and is skipped, as the PostgreSQL source skips WAL
 * below the merged LSN.
 *
 * Only positions that grow in log order take part:
 * - PostgreSQL with `sequence` ([last commit LSN, LSN]): commit order first. A bare `lsn` does
 *   not order concurrent transactions, and a missing last commit cannot be compared.
 * - SQL Server: (commit_lsn, change_lsn, event_serial_no), per database.
 *
 * Not MySQL: after a fail-over the new server's binlog file and position start anew. Snapshot
 * reads (`op: r`) never do: they all carry the snapshot's position and a snapshot may be
 * repeated.
 *
 * Equal positions: the delete and the insert Debezium sends for a primary-key change share one
 * position, so an equal position alone does not make a copy. But a connector that restarts
 * re-sends its last event, at the same position, and for a table without a primary key applying
 * an insert twice duplicates the row. So the watermark also remembers which operations (insert,
 * update, delete, truncate) it has read at its position: one source position is one log record
 * (a PostgreSQL LSN, a SQL Server change LSN and serial number), which yields at most one event
 * of each operation, so an event at the watermark's position with an operation already read
 * there is a copy.
 *
 * The highest position per partition and origin (connector, server, database) is stored with each
 * batch as a typed watermark of the checkpoint (`src/events/checkpoint.ts`): its sort key, then
 * one element per operation read at it ({@link OPERATION_CODES}), encoded as a row position.
 * Watermarks stored by releases before the operations were kept have the sort key alone.
 */
import { compareSourcePositions, type DebeziumChangeRecord, type SourcePosition } from '../../events/debezium/index.js';
import { watermarkKey, type Watermark } from '../../events/checkpoint.js';
import { decodePosition, encodePosition } from '../../events/position.js';

/** True when `record`'s source position grows in the connector's log order (see module comment). */
export function hasOrderedPosition(record: DebeziumChangeRecord): boolean {
  if (record.op === 'read') return false;
  const p = record.position;
  if (p.connector === 'postgresql') return p.sortKey.length === 2 && p.sortKey[0]! > 0n;
  return p.connector === 'sqlserver';
}

const NONE: readonly Watermark[] = Object.freeze([]);

/** The element a watermark stores for each operation read at its position. */
export const OPERATION_CODES: Readonly<Record<Exclude<DebeziumChangeRecord['op'], 'read'>, bigint>> = { insert: 1n, update: 2n, delete: 3n, truncate: 4n };

/** Elements of an ordered connector's sort key (see {@link hasOrderedPosition}). */
const SORT_KEY_LENGTH: Readonly<Record<string, number>> = { postgresql: 2, sqlserver: 3 };

/** A watermark: the highest position read, and the operations read at it. */
interface Mark {
  position: SourcePosition;
  operations: bigint[];
}

/** The highest source position read per broker partition and origin. */
export class SourceWatermarks {
  private readonly marks = new Map<string, Mark>();
  private touched = new Map<string, Watermark>();

  /** @param stored the watermarks of the checkpoint the pipeline starts from. */
  constructor(stored: Iterable<Watermark> = []) {
    for (const w of stored) {
      const connector = w.origin.split('|')[0]!;
      const parts = decodePosition(w.position);
      const n = SORT_KEY_LENGTH[connector] ?? parts.length;
      this.marks.set(watermarkKey(w), { position: { connector, sortKey: parts.slice(0, n), text: w.text }, operations: parts.slice(n) });
    }
  }

  /**
   * True when `record`, read from broker partition `partition`, is older than what that
   * partition already delivered from the same origin, or is at the same position with an
   * operation already read there (a resent copy, to skip). Otherwise its position (and
   * operation) becomes the watermark, stored with the next batch.
   */
  isReplay(partition: string, record: DebeziumChangeRecord): boolean {
    if (!hasOrderedPosition(record)) return false;
    const s = record.source;
    const origin = `${record.position.connector}|${s.serverName ?? ''}|${s.database ?? ''}`;
    const key = watermarkKey({ partition, origin });
    const mark = this.marks.get(key);
    const operation = OPERATION_CODES[record.op as keyof typeof OPERATION_CODES];
    const order = mark ? compareSourcePositions(record.position, mark.position) : 1;
    if (order < 0) return true;
    let operations: bigint[];
    if (order === 0) {
      if (mark!.operations.includes(operation)) return true;
      operations = [...mark!.operations, operation];
    } else operations = [operation];
    this.marks.set(key, { position: record.position, operations });
    this.touched.set(key, { partition, origin, position: encodePosition([...record.position.sortKey, ...operations]), text: record.position.text });
    return false;
  }

  /**
   * The highest source position read from broker partition `partition` (of any origin; the last
   * one found when several origins share it), or undefined when none is known.
   */
  latest(partition: string): SourcePosition | undefined {
    let found: SourcePosition | undefined;
    for (const [key, mark] of this.marks) if (key.startsWith(`${watermarkKey({ partition, origin: '' })}`)) found = mark.position;
    return found;
  }

  /**
   * The highest source position of all watermarks, when they come from one connector kind (else,
   * or without any, undefined): every event merged so far that had an ordered position was at or
   * below it.
   */
  highest(): SourcePosition | undefined {
    let top: SourcePosition | undefined;
    for (const mark of this.marks.values()) {
      if (top !== undefined && top.connector !== mark.position.connector) return undefined;
      if (top === undefined || compareSourcePositions(mark.position, top) > 0) top = mark.position;
    }
    return top;
  }

  /** The watermarks moved since the last call, to store with the batch. */
  takeMoved(): readonly Watermark[] {
    if (this.touched.size === 0) return NONE;
    const moved = [...this.touched.values()];
    this.touched = new Map();
    return moved;
  }
}
