/**
 * One batch on the PostgreSQL target: a single transaction that COPYs row changes into the
 * UNLOGGED staging tables (in chunks, so memory stays bounded however large a source
 * transaction is), calls each touched table's merge procedure, and records the merged position
 * in `cdc_management.offsets` before COMMIT (DESIGN.md §3.2–3.3, §4 inline mode).
 *
 * Batches overlap: while one commits (the target merges), the next one already encodes rows
 * into its in-memory buffers. It touches the target only once the previous batch has finished
 * (`BatchContext.previous`), so the target sees batches strictly one after the other on one
 * connection, and a full buffer makes the pipeline wait (backpressure).
 */
import type pg from 'pg';
import { CdcError, sqlState } from '../../errors.js';
import { from as copyFrom } from 'pg-copy-streams';
import type { DeadLetter, RowChangeMessage, RowOrigin } from '../../events/change.js';
import type { CheckpointUpdate } from '../../events/checkpoint.js';
import { redactText } from '../../redact.js';
import { sameShape, tableKey, type TableId, type TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import type { BatchCounts, BatchStats, SinkBatch } from '../change-sink.js';
import { DELETED_COLUMN, mergeProcedureId, stagingTableId, SYNCED_AT_COLUMN } from './naming.js';
import { RowEncoder } from './row-encoder.js';
import { stagingColumns } from './table-ddl.js';

/** Bytes buffered for one table before its rows are COPYed into staging (8 MiB). */
export const TABLE_BUFFER_BYTES = 8 << 20;

/**
 * Bytes buffered for all tables of a batch together (16 MiB): the pipeline's one budget for
 * staged rows (DESIGN.md §3.10). A transaction touching many tables fills many small buffers;
 * once they add up to this, the largest are COPYed into staging until half of it is left, so
 * memory does not grow with the number of tables (one transaction over 500 tables used to hold
 * every row until its commit).
 */
export const BATCH_BUFFER_BYTES = 16 << 20;

/** What a batch needs from its sink. */
export interface BatchContext {
  /** Merge each row change under its own savepoint and set rejected rows aside (see `BatchOptions`). */
  readonly isolateRows?: boolean;
  readonly client: pg.Client;
  /** Settles when the previous batch has committed or rolled back; this batch waits for it. */
  readonly previous: Promise<unknown>;
  readonly pipeline: string;
  /** Table shapes at the batch's start (the previous batch's end); the batch copies them. */
  readonly definitions: ReadonlyMap<string, TableSchema>;
  /** Applies a shape change inside the batch's transaction (merging first is the caller's job). */
  applySchemaChange(client: pg.ClientBase, before: TableSchema, after: TableSchema): Promise<void>;
  /** Creates the target objects of a table first seen mid-stream. */
  createTable(client: pg.ClientBase, table: TableSchema): Promise<void>;
  /** Called after COMMIT with the shapes this batch changed. */
  committed(definitions: ReadonlyMap<string, TableSchema>): void;
}

interface TableBuffer {
  encoder: RowEncoder;
  lines: string[];
  /** Key → index in `lines` of its last line (tables with a primary key). */
  latest: Map<string, number>;
  bytes: number;
  copySql: string;
}

/** An open target transaction; see the module comment. */
export class PostgresBatch implements SinkBatch {
  private readonly buffers = new Map<string, TableBuffer>();
  private readonly byId = new WeakMap<TableId, { key: string; buffer: TableBuffer }>();
  private readonly staged = new Set<string>();
  /** Table shapes as of this batch's latest message; the next batch starts from these. */
  readonly definitions: Map<string, TableSchema>;
  private readonly changed = new Map<string, TableSchema>();
  private readonly startedAt = Date.now();
  private origin: RowOrigin | undefined;
  private baseHex = '';
  private timeValue: Date | undefined;
  private timeText = '';
  private begun: Promise<void> | undefined;
  changes = 0;
  /** Row changes set aside in the dead-letter table (isolated batches). */
  private rejectedRows = 0;
  /** Bytes in all buffers together (see {@link BATCH_BUFFER_BYTES}). */
  private bufferedBytes = 0;

  /** Creates a batch; its transaction begins at its first write to the target. */
  constructor(private readonly ctx: BatchContext) {
    this.definitions = new Map(ctx.definitions);
  }

  /** Waits for the previous batch, then BEGINs; once. */
  private begin(): Promise<void> {
    this.begun ??= (async () => {
      await this.ctx.previous.catch(() => undefined);
      await this.ctx.client.query('BEGIN');
    })();
    return this.begun;
  }

  async relation(table: TableSchema): Promise<void> {
    const key = tableKey(table.id);
    const before = this.definitions.get(key);
    if (before && sameShape(before, table)) return;
    await this.begin();
    await this.mergeAll();
    if (before) await this.ctx.applySchemaChange(this.ctx.client, before, table);
    else await this.ctx.createTable(this.ctx.client, table);
    this.definitions.set(key, table);
    this.changed.set(key, table);
    this.buffers.delete(key);
  }

  row(change: RowChangeMessage): Promise<void> | undefined {
    const origin = change.origin;
    if (origin !== this.origin) {
      this.origin = origin;
      this.baseHex = origin.position.hex;
      if (origin.commitTime !== this.timeValue) {
        this.timeValue = origin.commitTime;
        this.timeText = origin.commitTime.toISOString();
      }
    }
    const buffer = this.buffer(change.table);
    const delta = buffer.encoder.encode(change, this.baseHex, this.timeText, buffer.lines, buffer.latest);
    buffer.bytes += delta;
    this.bufferedBytes += delta;
    this.changes++;
    if (this.ctx.isolateRows) return this.isolatedRow(tableKey(change.table), buffer, change);
    if (buffer.bytes >= TABLE_BUFFER_BYTES) return this.flush(tableKey(change.table), buffer);
    return this.bufferedBytes >= BATCH_BUFFER_BYTES ? this.flushLargest() : undefined;
  }

  /**
   * Stages and merges one row change under a savepoint. When the target rejects it
   * ({@link isRowRejection}), rolls back to the savepoint and sets the change aside in
   * `cdc_management.dead_letter`: its table, row position, staged line and the error.
   */
  private async isolatedRow(key: string, buffer: TableBuffer, change: RowChangeMessage): Promise<void> {
    const line = buffer.lines.join('');
    await this.begin();
    const client = this.ctx.client;
    await client.query('SAVEPOINT cdc_row');
    try {
      await this.flush(key, buffer);
      await client.query(`CALL ${quoteTable(mergeProcedureId(this.definitions.get(key)!.id))}()`);
      this.staged.delete(key);
      await client.query('RELEASE SAVEPOINT cdc_row');
    } catch (error) {
      this.staged.delete(key);
      if (!isRowRejection(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT cdc_row');
      await client.query('RELEASE SAVEPOINT cdc_row');
      const position = change.origin.position;
      const e = error as Error & { detail?: string };
      await client.query(
        `INSERT INTO cdc_management.dead_letter (pipeline, topic, broker_position, message_key, message_value, error, schema_name, table_name, row_position, error_code)
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9)`,
        [
          this.ctx.pipeline,
          `${change.table.schema}.${change.table.name}`,
          `row ${[...position.parts, BigInt(change.ordinal)].join('/')}`,
          Buffer.from(line, 'utf8'),
          e.detail ? `${e.message} (${e.detail})` : e.message,
          change.table.schema,
          change.table.name,
          Buffer.from(position.row(change.ordinal)),
          sqlState(error) ?? null,
        ],
      );
      this.rejectedRows++;
    }
  }

  /** COPYs the largest buffers until at most half of {@link BATCH_BUFFER_BYTES} is left. */
  private async flushLargest(): Promise<void> {
    const bySize = [...this.buffers].sort((a, b) => b[1].bytes - a[1].bytes);
    for (const [key, buffer] of bySize) {
      if (this.bufferedBytes <= BATCH_BUFFER_BYTES / 2) break;
      await this.flush(key, buffer);
    }
  }

  /**
   * Empties the tables, in order with the batch's changes. A soft-delete table (one with the
   * `_cdc_deleted` column) keeps its rows, each flagged deleted, as a DELETE of every row would.
   */
  async truncate(tables: readonly TableId[]): Promise<void> {
    await this.begin();
    await this.mergeAll();
    const { rows } = await this.ctx.client.query<{ i: number }>(
      `SELECT u.i::int AS i FROM unnest($1::regclass[]) WITH ORDINALITY AS u(rel, i)
         JOIN pg_attribute a ON a.attrelid = u.rel AND a.attname = $2 AND NOT a.attisdropped`,
      [tables.map(quoteTable), DELETED_COLUMN],
    );
    const soft = new Set(rows.map((r) => tables[r.i - 1]!));
    const hard = tables.filter((t) => !soft.has(t));
    for (const t of soft) {
      await this.ctx.client.query(
        `UPDATE ${quoteTable(t)} SET ${quoteIdent(DELETED_COLUMN)} = true, ${quoteIdent(SYNCED_AT_COLUMN)} = now() WHERE NOT ${quoteIdent(DELETED_COLUMN)}`,
      );
    }
    if (hard.length > 0) await this.ctx.client.query(`TRUNCATE ${hard.map(quoteTable).join(', ')}`);
  }

  async deadLetter(entry: DeadLetter): Promise<void> {
    await this.begin();
    await this.ctx.client.query(
      `INSERT INTO cdc_management.dead_letter (pipeline, topic, broker_position, message_key, message_value, error) VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        this.ctx.pipeline,
        entry.topic,
        entry.brokerPosition,
        entry.key === null ? null : Buffer.from(entry.key),
        entry.value === null ? null : Buffer.from(entry.value),
        // The raw message is kept on purpose (to replay it); the error text holds no row value.
        redactText(entry.error),
      ],
    );
  }

  async commit(checkpoint: CheckpointUpdate, counts: BatchCounts): Promise<BatchStats> {
    try {
      return await this.commitOrThrow(checkpoint, counts);
    } catch (error) {
      // Leave the connection usable (the next batch, the error log) whatever failed.
      await this.ctx.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private async commitOrThrow(checkpoint: CheckpointUpdate, counts: BatchCounts): Promise<BatchStats> {
    await this.begin();
    await this.mergeAll();
    const durationMs = Date.now() - this.startedAt;
    const client = this.ctx.client;
    const rows = checkpoint.positions;
    if (rows.length > 0) {
      await client.query(
        `INSERT INTO cdc_management.offsets (pipeline, source_partition, position, position_text, updated_at)
         SELECT $1, p.partition, p.position, p.text, now()
           FROM unnest($2::text[], $3::bigint[], $4::text[]) AS p(partition, position, text)
         ON CONFLICT (pipeline, source_partition) DO UPDATE SET position = EXCLUDED.position,
           position_text = EXCLUDED.position_text, updated_at = now()`,
        [this.ctx.pipeline, rows.map((r) => r.partition), rows.map((r) => r.position.toString()), rows.map((r) => r.text)],
      );
    }
    const marks = checkpoint.watermarks;
    if (marks.length > 0) {
      await client.query(
        `INSERT INTO cdc_management.watermarks (pipeline, source_partition, origin, position, position_text, updated_at)
         SELECT $1, w.partition, w.origin, w.position, w.text, now()
           FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[]) AS w(partition, origin, position, text)
         ON CONFLICT (pipeline, source_partition, origin) DO UPDATE SET position = EXCLUDED.position,
           position_text = EXCLUDED.position_text, updated_at = now()`,
        [this.ctx.pipeline, marks.map((w) => w.partition), marks.map((w) => w.origin), marks.map((w) => Buffer.from(w.position)), marks.map((w) => w.text)],
      );
    }
    const slot = rows.find((r) => r.partition === '');
    await client.query(
      `INSERT INTO cdc_management.processing_log (pipeline, commit_lsn, transactions, messages, changes, duration_ms, checkpoint)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        this.ctx.pipeline,
        slot ? slot.position.toString() : null,
        counts.transactions,
        counts.messages,
        this.changes,
        durationMs,
        rows.map((r) => r.text).join(', '),
      ],
    );
    await client.query('COMMIT');
    this.ctx.committed(this.changed);
    return { transactions: counts.transactions, messages: counts.messages, changes: this.changes, durationMs, rejectedRows: this.rejectedRows };
  }

  async rollback(): Promise<void> {
    if (this.begun) {
      await this.begun.catch(() => undefined);
      await this.ctx.client.query('ROLLBACK');
    }
  }

  private buffer(id: TableId): TableBuffer {
    // Change messages of one relation share one TableId object: look that up first.
    const cached = this.byId.get(id);
    if (cached && this.buffers.get(cached.key) === cached.buffer) return cached.buffer;
    const key = tableKey(id);
    let buffer = this.buffers.get(key);
    if (!buffer) {
      const table = this.definitions.get(key);
      if (!table) throw new Error(`no definition for ${quoteTable(id)}: a change arrived before its relation`);
      const columns = stagingColumns(table).map(quoteIdent).join(', ');
      buffer = {
        encoder: new RowEncoder(table),
        lines: [],
        latest: new Map(),
        bytes: 0,
        copySql: `COPY ${quoteTable(stagingTableId(table.id))} (${columns}) FROM STDIN`,
      };
      this.buffers.set(key, buffer);
    }
    this.byId.set(id, { key, buffer });
    return buffer;
  }

  private async flush(key: string, buffer: TableBuffer): Promise<void> {
    try {
      await this.copy(key, buffer);
    } catch (error) {
      throw this.ctx.isolateRows ? error : explainRejection(error, this.definitions.get(key)?.id);
    }
  }

  private async copy(key: string, buffer: TableBuffer): Promise<void> {
    if (buffer.lines.length === 0) return;
    const data = buffer.lines.join('');
    buffer.lines = [];
    buffer.latest.clear();
    this.bufferedBytes -= buffer.bytes;
    buffer.bytes = 0;
    await this.begin();
    const stream = this.ctx.client.query(copyFrom(buffer.copySql));
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('finish', resolve);
      stream.end(data);
    });
    this.staged.add(key);
  }

  /** COPYs every buffer, then merges every table with staged rows. */
  private async mergeAll(): Promise<void> {
    for (const [key, buffer] of this.buffers) await this.flush(key, buffer);
    for (const key of this.staged) {
      const table = this.definitions.get(key)!;
      try {
        await this.ctx.client.query(`CALL ${quoteTable(mergeProcedureId(table.id))}()`);
      } catch (error) {
        throw explainRejection(error, table.id);
      }
    }
    this.staged.clear();
  }
}

/**
 * True for an error by which the target rejects a row's values rather than the batch: a data
 * exception (SQLSTATE class 22: a value out of range, a NUL byte, text that is not of the
 * column's type) or an integrity constraint violation (class 23: NOT NULL, UNIQUE, CHECK,
 * FOREIGN KEY). Setting such a row aside lets every other change through.
 */
export function isRowRejection(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/** A row rejection ({@link isRowRejection}) as CdcError `ROW_REJECTED` naming the table; other errors as they are. */
function explainRejection(error: unknown, table: TableId | undefined): unknown {
  if (!isRowRejection(error)) return error;
  const e = error as Error & { detail?: string };
  const where = table ? `${table.schema}.${table.name}` : 'a table';
  return new CdcError('ROW_REJECTED', `the target rejected a row of ${where}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`, {
    cause: error,
    context: { table: where, sqlState: sqlState(error) },
    remedy: 'with on_rejected_row: dead_letter (the default) the pipeline sets such rows aside in cdc_management.dead_letter; else fix the value on the source or the constraint on the target',
  });
}
