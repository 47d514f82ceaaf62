/**
 * The Delta Lake sink from code, without a source: `DeltaLakeWriter` (the seed's
 * `DeltaLakeWriter(table_path, enable_cdf, primary_key).write_batch(events)`). Each
 * {@link DeltaLakeWriter.writeBatch} is one batch of the sink: the last change per key wins, one
 * commit (with `txn` and change data files) per call, exactly once across crashes (the next open
 * finishes an interrupted batch).
 */
import { pino, type Logger } from 'pino';
import { CdcError } from '../../errors.js';
import type { RowChangeMessage, RowOrigin } from '../../events/change.js';
import { PositionBase } from '../../events/position.js';
import { logicalTypeOf } from '../../schema/type-map.js';
import type { TableSchema } from '../../schema/table.js';
import type { SinkBatch } from '../change-sink.js';
import { openLakeStorage } from '../lake/open-lake-storage.js';
import { DEFAULT_FILE_ROWS } from './dialect.js';
import { DeltaSink } from './sink.js';

/** A column of a table written through {@link DeltaLakeWriter}: its name and PostgreSQL type (`integer`, `numeric(10,2)`, `text[]`, …). */
export interface DeltaWriterColumn {
  readonly name: string;
  readonly type: string;
}

/** Options of {@link DeltaLakeWriter.open}. */
export interface DeltaLakeWriterOptions {
  /** The Delta location (an absolute directory); the table is `<location>/<schema>/<name>`. */
  readonly location: string;
  readonly schema?: string;
  readonly name: string;
  readonly columns: readonly DeltaWriterColumn[];
  /** Key columns; empty: rows are identified by all their columns. */
  readonly primaryKey: readonly string[];
  /** Write the Change Data Feed (default true). */
  readonly changeDataFeed?: boolean;
  /** Merge with deletion vectors instead of rewriting files (default false; readers need the `deletionVectors` feature). */
  readonly deletionVectors?: boolean;
  /** Names the writer's txn appId (`cdc-merge:<pipeline>`) and bookkeeping (default `library`). */
  readonly pipeline?: string;
  readonly log?: Logger;
}

/** A JavaScript value for a column: text as PostgreSQL prints it, or a number, bigint, boolean, Date (timestamps, dates) or Uint8Array (bytea). */
export type DeltaWriterValue = string | number | bigint | boolean | Date | Uint8Array | null;

/** One change for {@link DeltaLakeWriter.writeBatch}: a row by column name (a delete needs only the key). */
export interface DeltaWriterEvent {
  readonly op: 'insert' | 'update' | 'delete';
  readonly row: Readonly<Record<string, DeltaWriterValue>>;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A value as the PostgreSQL text the sink's decoder reads, for a column of `type`. */
function toText(value: DeltaWriterValue, type: string): string | null {
  if (value === null) return null;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (value instanceof Date) {
    const date = `${pad(value.getUTCFullYear(), 4)}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}`;
    if (type === 'date') return date;
    const time = `${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${pad(value.getUTCSeconds())}.${pad(value.getUTCMilliseconds(), 3)}`;
    return type.includes('with time zone') ? `${date} ${time}+00` : `${date} ${time}`;
  }
  return String(value);
}

/** Writes batches of changes into one Delta table. */
export class DeltaLakeWriter {
  private batches = 0;

  private constructor(
    private readonly sink: DeltaSink,
    private readonly table: TableSchema,
    private readonly pipeline: string,
  ) {}

  /**
   * Opens (and creates) the table; finishes a batch an earlier process left unfinished.
   * @throws {CdcError} CONFIG_INVALID for an unknown key column; the sink's errors
   *   (TARGET_UNWRITABLE, TARGET_NOT_DELTA, DELTA_SCHEMA_CONFLICT, …).
   */
  static async open(options: DeltaLakeWriterOptions): Promise<DeltaLakeWriter> {
    for (const k of options.primaryKey) {
      if (!options.columns.some((c) => c.name === k)) throw new CdcError('CONFIG_INVALID', `key column ${k} is not among the columns of ${options.name}`, { remedy: 'name key columns from columns' });
    }
    const table: TableSchema = {
      id: { schema: options.schema ?? 'public', name: options.name },
      columns: options.columns.map((c) => ({ name: c.name, type: c.type, logicalType: logicalTypeOf(c.type), nullable: !options.primaryKey.includes(c.name), toastable: false })),
      primaryKey: [...options.primaryKey],
    };
    const pipeline = options.pipeline ?? 'library';
    const sink = await DeltaSink.open({
      storage: openLakeStorage(options.location),
      pipeline,
      log: options.log ?? pino({ level: 'silent' }),
      tableDefaults: { changeDataFeed: options.changeDataFeed ?? true, maxRowsPerFile: DEFAULT_FILE_ROWS, deletionVectors: options.deletionVectors ?? false },
    });
    await sink.prepare([table]);
    const writer = new DeltaLakeWriter(sink, table, pipeline);
    writer.batches = Number((await sink.checkpoint()).positions.get(pipeline)?.position ?? 0n);
    return writer;
  }

  /**
   * Merges `events` (in order; the last change per key wins) as one commit.
   * @returns the batch number (1, 2, …).
   * @throws {CdcError} VALUE_TEXT_INVALID for a value its column's type cannot read.
   */
  async writeBatch(events: readonly DeltaWriterEvent[]): Promise<number> {
    const number = this.batches + 1;
    const origin: RowOrigin = { position: new PositionBase([BigInt(number)]), commitTime: new Date() };
    const batch: SinkBatch = await this.sink.openBatch();
    await batch.relation(this.table);
    let ordinal = 0;
    for (const event of events) {
      const values = this.table.columns.map((c) => (c.name in event.row ? toText(event.row[c.name] ?? null, c.type) : null));
      const message: RowChangeMessage =
        event.op === 'delete'
          ? { kind: 'delete', table: this.table.id, origin, ordinal: ordinal++, oldRow: values }
          : { kind: event.op, table: this.table.id, origin, ordinal: ordinal++, row: values };
      await batch.row(message);
    }
    await batch.commit({ positions: [{ partition: this.pipeline, position: BigInt(number), text: `batch ${number}` }], watermarks: [] }, { transactions: 1, messages: events.length });
    this.batches = number;
    return number;
  }

  /** Releases the sink. */
  close(): Promise<void> {
    return this.sink.close();
  }
}
