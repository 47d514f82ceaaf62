/**
 * The PostgreSQL sink (DESIGN.md §4): creates `cdc_management`, and per table the final table,
 * the UNLOGGED staging table and the merge procedure; loads snapshots straight into final
 * tables; lands and merges batches in one transaction with the merged position.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { CdcError, sqlState } from '../../errors.js';
import { redactText, redactValue, redactedMessage } from '../../redact.js';
import { formatTableId, tableKey, type TableSchema } from '../../schema/table.js';
import { connectPostgres, SESSION_OPTIONS } from '../../sql/connect.js';
import { quoteIdent, quoteTable } from '../../sql/quote.js';
import type { Checkpoint, PartitionPosition, Watermark } from '../../events/checkpoint.js';
import { watermarkKey } from '../../events/checkpoint.js';
import { encodePosition, type PositionBase } from '../../events/position.js';
import type { BatchOptions, ChangeSink, SinkBatch, SinkCapabilities, TableSnapshotState } from '../change-sink.js';
import { PostgresBatch } from './batch.js';
import { infrastructureSql } from './infrastructure.js';
import { applyMigration, type Migration } from './migration-history.js';
import { POSITION_COLUMN, assertSupportedTable, stagingTableId } from './naming.js';
import type { SchemaChangePolicy } from './schema-change.js';
import { OUT_OF_BAND_POSITION, type TableOptions } from './table-ddl.js';
import { tableChangeDdl } from './table-change-ddl.js';
import { tableUnits } from './table-objects.js';
import { readTargetTables } from './target-catalog.js';

/** Options for {@link PostgresSink.open}. */
export interface PostgresSinkOptions {
  readonly url: string;
  /** Pipeline name; keys offsets and snapshot progress. */
  readonly pipeline: string;
  readonly tableOptions?: TableOptions;
  /** What to do with dropped columns and type changes (ADD COLUMN is always applied). */
  readonly schemaPolicy?: SchemaChangePolicy;
  /** Connections for parallel snapshot loading (default 2). */
  readonly snapshotConnections?: number;
  readonly log: Logger;
}

/** Advisory lock key held while creating infrastructure (any constant unlikely to collide). */
const DDL_LOCK = 727_274_001;

/** Default schema-change policy: keep dropped columns (they receive NULLs), apply type changes. */
export const DEFAULT_SCHEMA_POLICY: SchemaChangePolicy = { drop: 'ignore', typeChange: 'apply' };

/**
 * The migrations that create one table's target objects: its two units, `table <id>` and
 * `staging <id>` (`tableUnits`), the same SQL under the same names as the files of
 * `cdc migrations generate`, so a table the project's migrations created is skipped. Options: the
 * table's own (`table.options`, from its definition), else `options`.
 * @throws {UnsupportedTableError} for a column under the reserved prefix `_cdc_`.
 */
export function tableMigrations(table: TableSchema, options: TableOptions): Migration[] {
  return tableUnits(table, options).map(({ name, kind, sql }) => ({ name, kind, sql }));
}

/** What the PostgreSQL sink can do (see {@link SinkCapabilities}). */
export const POSTGRES_CAPABILITIES: SinkCapabilities = {
  multiTableAtomicCommit: true,
  transactionalDdl: true,
  deferredMerge: true,
  snapshotFormat: 'copy-text',
  valueEncoding: 'postgresql-text',
};

/** A PostgreSQL target for one pipeline. */
export class PostgresSink implements ChangeSink {
  readonly capabilities = POSTGRES_CAPABILITIES;
  private definitions = new Map<string, TableSchema>();
  private readonly pool: pg.Pool;
  /** Shapes as the most recent, maybe uncommitted, batch left them; the next batch starts there. */
  private pendingDefinitions: Map<string, TableSchema> | undefined;
  /** Settles when the most recent batch has committed or rolled back. */
  private lastBatch: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: PostgresSinkOptions,
    private readonly client: pg.Client,
  ) {
    this.pool = new pg.Pool({ connectionString: options.url, max: options.snapshotConnections ?? 2, application_name: 'cdc-merge snapshot load', options: SESSION_OPTIONS });
    // An idle pooled connection that the server drops must not crash the process; the next
    // checkout simply opens a new one.
    this.pool.on('error', (error) => options.log.warn({ error: error.message }, 'target: idle snapshot connection lost'));
  }

  /**
   * Connects to the target.
   * @throws {CdcError} the connection errors of {@link connectPostgres}.
   */
  static async open(options: PostgresSinkOptions): Promise<PostgresSink> {
    const client = await connectPostgres(options.url, { role: 'target' });
    return new PostgresSink(options, client);
  }

  private get tableOptions(): TableOptions {
    return this.options.tableOptions ?? {};
  }

  /** The stored definitions of the pipeline's target tables (read by {@link prepare}). */
  tables(): Promise<readonly TableSchema[]> {
    return Promise.resolve([...this.definitions.values()]);
  }

  async prepare(tables: readonly TableSchema[]): Promise<void> {
    for (const t of tables) {
      try {
        assertSupportedTable(t);
      } catch (error) {
        throw new CdcError('TABLE_UNSUPPORTED', (error as Error).message, { cause: error, context: { table: formatTableId(t.id) } });
      }
    }
    const c = this.client;
    await this.inTransaction(async () => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      await c.query(infrastructureSql());
      await upgradeWatermarks(c);
      const { rows } = await c.query<{ schema_name: string; table_name: string; definition: TableSchema }>(
        'SELECT schema_name, table_name, definition FROM cdc_management.table_definitions WHERE pipeline = $1',
        [this.options.pipeline],
      );
      this.definitions = new Map(rows.map((r) => [tableKey({ schema: r.schema_name, name: r.table_name }), r.definition]));
      for (const stored of this.definitions.values()) await this.upgradeTable(c, stored);
      for (const t of tables) {
        if (this.definitions.has(tableKey(t.id))) continue;
        await this.createTable(c, t);
        this.definitions.set(tableKey(t.id), t);
      }
    }, 'create the target tables');
  }

  private async createTable(client: pg.ClientBase, table: TableSchema): Promise<void> {
    for (const m of tableMigrations(table, this.tableOptions)) await applyMigration(client, m);
    await this.saveDefinition(client, table);
  }

  /**
   * Brings a stored table's repeatable objects up to this release: the staging unit (row position
   * upgrade of a table an earlier release made, staging table, trigger, merge procedure) is applied
   * again when its SQL changed, so a new release's merge procedure replaces the old one.
   */
  private async upgradeTable(client: pg.ClientBase, table: TableSchema): Promise<void> {
    for (const m of tableMigrations(table, this.tableOptions)) {
      if (m.kind === 'repeatable' && (await applyMigration(client, m))) {
        this.options.log.info({ table: formatTableId(table.id), unit: m.name }, 'brought the staging table and merge procedure up to this release');
      }
    }
  }

  private async saveDefinition(client: pg.ClientBase, table: TableSchema): Promise<void> {
    await client.query(
      `INSERT INTO cdc_management.table_definitions (pipeline, schema_name, table_name, definition, updated_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (pipeline, schema_name, table_name) DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()`,
      [this.options.pipeline, table.id.schema, table.id.name, JSON.stringify(table)],
    );
  }

  private async inTransaction<T>(work: () => Promise<T>, what: string): Promise<T> {
    try {
      await this.client.query('BEGIN');
      const result = await work();
      await this.client.query('COMMIT');
      return result;
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      if (sqlState(error) === '42501') {
        throw new CdcError('PERMISSION_DENIED', `the target role may not ${what}: ${(error as Error).message}`, {
          cause: error,
          remedy: 'grant the target role CREATE on the database (GRANT CREATE ON DATABASE … TO …) or connect as the database owner',
        });
      }
      throw error;
    }
  }

  async checkpoint(): Promise<Checkpoint> {
    const offsets = await this.client.query<{ source_partition: string; position: string; position_text: string | null }>(
      'SELECT source_partition, position::text, position_text FROM cdc_management.offsets WHERE pipeline = $1',
      [this.options.pipeline],
    );
    const marks = await this.client.query<{ source_partition: string; origin: string; position: Buffer; position_text: string | null }>(
      'SELECT source_partition, origin, position, position_text FROM cdc_management.watermarks WHERE pipeline = $1',
      [this.options.pipeline],
    );
    const positions = new Map<string, PartitionPosition>(
      offsets.rows.map((r) => [r.source_partition, { partition: r.source_partition, position: BigInt(r.position), text: r.position_text ?? r.position }]),
    );
    const watermarks = new Map<string, Watermark>();
    for (const r of marks.rows) {
      const w: Watermark = { partition: r.source_partition, origin: r.origin, position: new Uint8Array(r.position), text: r.position_text ?? '' };
      watermarks.set(watermarkKey(w), w);
    }
    return { positions, watermarks };
  }

  async snapshotStates(): Promise<TableSnapshotState[]> {
    const { rows } = await this.client.query<{
      schema_name: string;
      table_name: string;
      state: TableSnapshotState['state'];
      snapshot_position: Buffer | null;
      snapshot_lsn: string | null;
      rows_copied: string | null;
      source_identity: string | null;
    }>(
      'SELECT schema_name, table_name, state, snapshot_position, snapshot_lsn::text, rows_copied::text, source_identity FROM cdc_management.snapshot_progress WHERE pipeline = $1',
      [this.options.pipeline],
    );
    return rows.map((r) => ({
      table: { schema: r.schema_name, name: r.table_name },
      state: r.state,
      // Rows written before snapshot_position existed hold the snapshot's LSN only.
      snapshotPosition: r.snapshot_position ? new Uint8Array(r.snapshot_position) : r.snapshot_lsn === null ? null : encodePosition([BigInt(r.snapshot_lsn)]),
      rowsCopied: Number(r.rows_copied ?? 0),
      sourceIdentity: r.source_identity,
    }));
  }

  async beginTableSnapshot(table: TableSchema, position: PositionBase, sourceIdentity?: string): Promise<void> {
    const final = quoteTable(table.id);
    await this.inTransaction(async () => {
      await this.client.query(`TRUNCATE ${final}, ${quoteTable(stagingTableId(table.id))}`);
      // Snapshot rows carry the snapshot's position, a prefix of (so below) every streamed
      // change committed at or after it.
      await this.client.query(`ALTER TABLE ${final} ALTER COLUMN ${quoteIdent(POSITION_COLUMN)} SET DEFAULT '\\x${position.hex}'::bytea`);
      await this.setSnapshotState(table, 'copying', position, 0, sourceIdentity ?? null);
    }, `prepare ${formatTableId(table.id)} for its snapshot`);
  }

  async loadSnapshotChunk(table: TableSchema, rows: Readable): Promise<number> {
    const client = await this.pool.connect();
    try {
      const columns = table.columns.map((c) => quoteIdent(c.name)).join(', ');
      const copy = client.query(copyFrom(`COPY ${quoteTable(table.id)} (${columns}) FROM STDIN`));
      await pipe(rows, copy);
      return Number(copy.rowCount);
    } finally {
      client.release();
    }
  }

  async finishTableSnapshot(table: TableSchema, position: PositionBase, rowsCopied: number): Promise<void> {
    const final = quoteTable(table.id);
    await this.inTransaction(async () => {
      await this.client.query(`ALTER TABLE ${final} ALTER COLUMN ${quoteIdent(POSITION_COLUMN)} SET DEFAULT ${OUT_OF_BAND_POSITION}`);
      await this.setSnapshotState(table, 'done', position, rowsCopied, undefined);
    }, `finish the snapshot of ${formatTableId(table.id)}`);
    await this.client.query(`ANALYZE ${final}`);
  }

  /** Writes the table's snapshot state; `sourceIdentity` undefined keeps the recorded one. */
  private async setSnapshotState(table: TableSchema, state: string, position: PositionBase, rows: number, sourceIdentity: string | null | undefined): Promise<void> {
    await this.client.query(
      `INSERT INTO cdc_management.snapshot_progress (pipeline, schema_name, table_name, state, snapshot_position, rows_copied, started_at, finished_at, source_identity)
       VALUES ($1, $2, $3, $4, $5, $6, now(), CASE WHEN $4 = 'done' THEN now() END, $7)
       ON CONFLICT (pipeline, schema_name, table_name) DO UPDATE SET state = EXCLUDED.state, snapshot_position = EXCLUDED.snapshot_position,
         snapshot_lsn = NULL, rows_copied = EXCLUDED.rows_copied, finished_at = EXCLUDED.finished_at,
         started_at = CASE WHEN EXCLUDED.state = 'copying' THEN now() ELSE snapshot_progress.started_at END,
         source_identity = CASE WHEN $8 THEN EXCLUDED.source_identity ELSE snapshot_progress.source_identity END`,
      [this.options.pipeline, table.id.schema, table.id.name, state, Buffer.from(position.bytes), rows, sourceIdentity ?? null, sourceIdentity !== undefined],
    );
  }

  async forgetTableSnapshot(table: TableSchema): Promise<void> {
    await this.client.query(
      `UPDATE cdc_management.snapshot_progress SET state = 'pending', finished_at = NULL WHERE pipeline = $1 AND schema_name = $2 AND table_name = $3`,
      [this.options.pipeline, table.id.schema, table.id.name],
    );
  }

  async reset(): Promise<void> {
    await this.client.query('DELETE FROM cdc_management.offsets WHERE pipeline = $1', [this.options.pipeline]);
    await this.client.query('DELETE FROM cdc_management.watermarks WHERE pipeline = $1', [this.options.pipeline]);
    await this.client.query('DELETE FROM cdc_management.snapshot_progress WHERE pipeline = $1', [this.options.pipeline]);
  }

  async openBatch(options: BatchOptions = {}): Promise<SinkBatch> {
    const batch = new PostgresBatch({
      isolateRows: options.isolateRows ?? false,
      client: this.client,
      previous: this.lastBatch,
      pipeline: this.options.pipeline,
      definitions: this.pendingDefinitions ?? this.definitions,
      applySchemaChange: async (client, before, after) => {
        // The final table as it is (types kept by an earlier 'ignore' are only there).
        const [current] = await readTargetTables(client, [after.id]);
        const policy = { ...(this.options.schemaPolicy ?? DEFAULT_SCHEMA_POLICY), allowDestructive: true };
        const ddl = tableChangeDdl({ before, after, policy, defaults: this.tableOptions, ...(current ? { current } : {}) });
        for (const { change, decision } of ddl.plan.changes) {
          const { kind, column, from, to, severity, message } = change;
          this.options.log.warn({ table: formatTableId(after.id), kind, column, from, to, severity, decision }, `schema change: ${message}`);
        }
        for (const sql of ddl.statements) await client.query(sql);
        await this.saveDefinition(client, after);
      },
      createTable: (client, table) => this.createTable(client, table),
      committed: (changed) => {
        for (const [k, t] of changed) this.definitions.set(k, t);
      },
    });
    this.pendingDefinitions = batch.definitions;
    return this.track(batch);
  }

  /** Records the batch's end (commit or rollback) as the point the next batch waits for. */
  private track(batch: PostgresBatch): SinkBatch {
    let settle!: () => void;
    this.lastBatch = new Promise<void>((resolve) => (settle = resolve));
    return {
      relation: (table) => batch.relation(table),
      row: (change) => batch.row(change),
      truncate: (tables) => batch.truncate(tables),
      deadLetter: (entry) => batch.deadLetter(entry),
      commit: (checkpoint, counts) => batch.commit(checkpoint, counts).finally(settle),
      rollback: () =>
        batch.rollback().finally(() => {
          this.pendingDefinitions = undefined;
          settle();
        }),
      get changes() {
        return batch.changes;
      },
    };
  }

  async recordPositions(positions: readonly PartitionPosition[]): Promise<void> {
    await this.client.query(
      `INSERT INTO cdc_management.offsets (pipeline, source_partition, position, position_text, updated_at)
       SELECT $1, p.partition, p.position, p.text, now()
         FROM unnest($2::text[], $3::bigint[], $4::text[]) AS p(partition, position, text)
       ON CONFLICT (pipeline, source_partition) DO UPDATE SET position = GREATEST(offsets.position, EXCLUDED.position),
         position_text = CASE WHEN EXCLUDED.position > offsets.position THEN EXCLUDED.position_text ELSE offsets.position_text END, updated_at = now()`,
      [this.options.pipeline, positions.map((p) => p.partition), positions.map((p) => p.position.toString()), positions.map((p) => p.text)],
    );
  }

  /**
   * Writes `error` to `cdc_management.error_log`: its message, SQLSTATE or code, table, failing
   * internal statement, and detail (PostgreSQL's detail, where and hint, the cause's message, the
   * error's context), each without passwords, tokens or row values (`redactText`).
   */
  async recordError(error: unknown): Promise<void> {
    const e = (error ?? {}) as Record<string, unknown>;
    const text = (k: string) => (typeof e[k] === 'string' ? redactText(e[k]) : null);
    const code = text('code');
    const message = redactedMessage(error);
    const context = error instanceof CdcError ? (redactValue(error.context) as Record<string, unknown>) : {};
    const table = typeof context.table === 'string' ? context.table : null;
    const detail = {
      hint: text('hint') ?? (error instanceof CdcError ? (error.remedy === undefined ? null : redactText(error.remedy)) : null),
      detail: text('detail'),
      where: text('where'),
      cause: error instanceof Error && error.cause instanceof Error ? redactedMessage(error.cause) : null,
      ...context,
    };
    // At start-up the target may not have cdc_management yet (the error came before prepare):
    // then there is no log to write to, and none is created just for this.
    await this.client
      .query(
        `INSERT INTO cdc_management.error_log (pipeline, schema_name, table_name, error_code, message, statement, detail)
         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE to_regclass('cdc_management.error_log') IS NOT NULL`,
        [this.options.pipeline, text('schema'), text('table') ?? table, code, message, text('internalQuery'), JSON.stringify(detail)],
      )
      .catch((failure: unknown) => this.options.log.warn({ error: redactedMessage(failure) }, 'could not write cdc_management.error_log'));
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}

/** The text of a source watermark before watermarks had a table: `… [sort:key:elements]`. */
const LEGACY_WATERMARK = / \[(\d+(?::\d+)*)\]$/;

/**
 * Moves source watermarks that an earlier release stored as `source:<partition>|<connector>|
 * <server>|<database>` rows of `offsets` (the sort key at the end of the text) into
 * `watermarks`, once. Inside the caller's transaction.
 */
async function upgradeWatermarks(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ pipeline: string; source_partition: string; position_text: string | null }>(
    "SELECT pipeline, source_partition, position_text FROM cdc_management.offsets WHERE source_partition LIKE 'source:%'",
  );
  for (const r of rows) {
    const m = LEGACY_WATERMARK.exec(r.position_text ?? '');
    const [partition, connector, server, database] = r.source_partition.slice('source:'.length).split('|');
    if (m && partition !== undefined && connector) {
      const position = encodePosition(m[1]!.split(':').map(BigInt));
      await client.query(
        `INSERT INTO cdc_management.watermarks (pipeline, source_partition, origin, position, position_text) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (pipeline, source_partition, origin) DO NOTHING`,
        [r.pipeline, partition, `${connector}|${server ?? ''}|${database ?? ''}`, Buffer.from(position), (r.position_text ?? '').replace(LEGACY_WATERMARK, '')],
      );
    }
    await client.query('DELETE FROM cdc_management.offsets WHERE pipeline = $1 AND source_partition = $2', [r.pipeline, r.source_partition]);
  }
}
