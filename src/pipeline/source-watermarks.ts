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
 * repeated. Equal positions are not copies: the delete and insert Debezium sends for a
 * primary-key change share one position (re-applying the last event is harmless).
 *
 * The highest position per partition and connector is stored with each batch as a row of
 * `cdc_management.offsets` named `source:<partition>|<connector>|<server>|<database>`.
 */
import { compareSourcePositions, type DebeziumChangeRecord, type SourcePosition } from '../events/debezium/index.js';
import type { PartitionPosition } from './sink.js';

const PREFIX = 'source:';
/** The stored text ends with the sort key: `lsn 0/16E8B58 (last commit 0/16E8B20) [23985960:23985992]`. */
const SORT_KEY = / \[(\d+(?::\d+)*)\]$/;

/** True for an offsets row that holds a source watermark, not a broker position. */
export function isWatermarkPartition(name: string): boolean {
  return name.startsWith(PREFIX);
}

/** True when `record`'s source position grows in the connector's log order (see module comment). */
export function hasOrderedPosition(record: DebeziumChangeRecord): boolean {
  if (record.op === 'read') return false;
  const p = record.position;
  if (p.connector === 'postgresql') return p.sortKey.length === 2 && p.sortKey[0]! > 0n;
  return p.connector === 'sqlserver';
}

/** The highest source position read per broker partition and connector. */
export class SourceWatermarks {
  private readonly marks = new Map<string, SourcePosition>();
  private touched = new Map<string, PartitionPosition>();

  /**
   * @param stored the offsets rows of the pipeline (others than watermarks are ignored; a row
   *   whose text carries no sort key is ignored too).
   */
  constructor(stored: Iterable<PartitionPosition> = []) {
    for (const row of stored) {
      if (!isWatermarkPartition(row.partition)) continue;
      const m = SORT_KEY.exec(row.text);
      const connector = row.partition.slice(PREFIX.length).split('|')[1];
      if (!m || !connector) continue;
      this.marks.set(row.partition, { connector, sortKey: m[1]!.split(':').map(BigInt), text: row.text.replace(SORT_KEY, '') });
    }
  }

  /**
   * True when `record`, read from broker partition `partition`, is older than what that
   * partition already delivered from the same connector (a resent copy, to skip). Otherwise its
   * position becomes the watermark, stored with the next batch.
   */
  isReplay(partition: string, record: DebeziumChangeRecord): boolean {
    if (!hasOrderedPosition(record)) return false;
    const s = record.source;
    const name = `${PREFIX}${partition}|${record.position.connector}|${s.serverName ?? ''}|${s.database ?? ''}`;
    const mark = this.marks.get(name);
    if (mark && compareSourcePositions(record.position, mark) < 0) return true;
    this.marks.set(name, record.position);
    this.touched.set(name, { partition: name, position: 0n, text: `${record.position.text} [${record.position.sortKey.join(':')}]` });
    return false;
  }

  /** The watermarks moved since the last call, to store with the batch. */
  takeMoved(): PartitionPosition[] {
    const moved = [...this.touched.values()];
    this.touched = new Map();
    return moved;
  }
}
