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
import { from as copyFrom } from 'pg-copy-streams';
import type { DeadLetter, RowChangeMessage, RowOrigin } from '../../events/change.js';
import type { CheckpointUpdate } from '../../events/checkpoint.js';
import { sameShape, tableKey, type TableId, type TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import type { BatchCounts, BatchStats, SinkBatch } from '../change-sink.js';
import { mergeProcedureId, stagingTableId } from './naming.js';
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
    if (buffer.bytes >= TABLE_BUFFER_BYTES) return this.flush(tableKey(change.table), buffer);
    return this.bufferedBytes >= BATCH_BUFFER_BYTES ? this.flushLargest() : undefined;
  }

  /** COPYs the largest buffers until at most half of {@link BATCH_BUFFER_BYTES} is left. */
  private async flushLargest(): Promise<void> {
    const bySize = [...this.buffers].sort((a, b) => b[1].bytes - a[1].bytes);
    for (const [key, buffer] of bySize) {
      if (this.bufferedBytes <= BATCH_BUFFER_BYTES / 2) break;
      await this.flush(key, buffer);
    }
  }

  async truncate(tables: readonly TableId[]): Promise<void> {
    await this.begin();
    await this.mergeAll();
    const list = tables.map(quoteTable).join(', ');
    await this.ctx.client.query(`TRUNCATE ${list}`);
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
        entry.error,
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
    return { transactions: counts.transactions, messages: counts.messages, changes: this.changes, durationMs };
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
      await this.ctx.client.query(`CALL ${quoteTable(mergeProcedureId(table.id))}()`);
    }
    this.staged.clear();
  }
}
