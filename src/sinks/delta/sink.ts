/**
 * The Delta Lake sink (DESIGN.md §6.1): one Delta table per source table at
 * `<location>/<schema>/<table>`, one commit per table per batch.
 *
 * A batch commits in this order, so that a crash anywhere leaves either the previous batch or a
 * batch that the next start finishes (DESIGN.md §3.3):
 * 1. every table's data and `_change_data/` files are written (invisible: no log entry names them);
 * 2. the batch's *intent* is stored (`_cdc/pipelines/<name>/intent.json`): its number, its
 *    checkpoint and every table's log entry, each with `txn { appId: cdc-merge:<name>, version:
 *    batch }` and the checkpoint in `commitInfo.cdcMerge`;
 * 3. each table's entry is committed (put-if-absent);
 * 4. the batch log (`_cdc/batches`, a Delta table) gets the batch's row, committed with the same txn;
 * 5. the intent is removed.
 * At start, an intent newer than the batch log's last batch is finished: each entry whose table
 * has no txn of that batch yet is committed. The checkpoint is then the batch log's last.
 *
 * Bookkeeping under `<location>/_cdc/`: the Delta tables `batches` (one row per batch: the
 * processing log), `error_log` and `dead_letters`; per pipeline, `snapshots.json` (copy state
 * per table) and `positions.json` (positions an idle source reached after the last batch).
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { CdcError } from '../../errors.js';
import { EMPTY_CHECKPOINT, type Checkpoint, type CheckpointUpdate, type PartitionPosition } from '../../events/checkpoint.js';
import { UNCHANGED, type DeadLetter, type RowChangeMessage } from '../../events/change.js';
import { readCopyTextRows } from '../../events/values/copy-text.js';
import { positionFromHex, type PositionBase } from '../../events/position.js';
import { redactText, redactedMessage } from '../../redact.js';
import { formatTableId, tableKey, type ColumnSchema, type TableId, type TableSchema } from '../../schema/table.js';
import { crashPoint } from '../../run/crash-point.js';
import type { BatchCounts, BatchStats, ChangeSink, SinkBatch, SinkCapabilities, TableSnapshotState } from '../change-sink.js';
import type { LakeValue } from '../lake/parquet.js';
import type { LakeStorage } from '../lake/storage.js';
import { advance, checkpointFromJson, checkpointToJson, type CheckpointJson } from './checkpoint-json.js';
import { commitVersion, parseCommit, readSnapshot, commitPath, type DeltaAction } from './delta-log.js';
import { DEFAULT_COMPACT_AFTER_FILES, DeltaTable, keyText, SOFT_DELETE_COLUMN, type DeltaTableOptions, type PendingValue, type PlannedCommit, type TableChanges } from './delta-table.js';

/** What the Delta sink can do (see {@link SinkCapabilities}). */
export const DELTA_CAPABILITIES: SinkCapabilities = {
  multiTableAtomicCommit: false,
  transactionalDdl: false,
  deferredMerge: false,
  snapshotFormat: 'copy-text',
  valueEncoding: 'typed',
};

/** The folder of the sink's own tables and files under the location. */
export const BOOKKEEPING = '_cdc';

/** Options of {@link DeltaSink.open}. */
export interface DeltaSinkOptions {
  readonly storage: LakeStorage;
  /** Pipeline name: the txn appId is `cdc-merge:<pipeline>`. */
  readonly pipeline: string;
  readonly log: Logger;
  /** Defaults for every table. */
  readonly tableDefaults: DeltaTableOptions;
  /** One table's settings over the defaults (cdc.yaml `target.tables`). */
  readonly tableSettings?: (id: TableId) => Partial<DeltaTableOptions>;
}

/** The intent of a batch (see the module comment, step 2). */
interface Intent {
  readonly batch: number;
  readonly checkpoint: CheckpointJson;
  readonly entries: readonly { readonly table: string; readonly actions: readonly DeltaAction[] }[];
}

/** Positions an idle source reached after batch `afterBatch`. */
interface IdlePositions {
  readonly afterBatch: number;
  readonly checkpoint: CheckpointJson;
}

interface SnapshotStateJson {
  schema: string;
  name: string;
  state: 'pending' | 'copying' | 'done';
  position: string | null;
  rows: number;
  sourceIdentity: string | null;
}

const text = (name: string): ColumnSchema => ({ name, type: 'text', logicalType: { kind: 'text' }, nullable: true, toastable: true });
const int64 = (name: string): ColumnSchema => ({ name, type: 'bigint', logicalType: { kind: 'int64' }, nullable: true, toastable: false });
const timestamptz = (name: string): ColumnSchema => ({ name, type: 'timestamp with time zone', logicalType: { kind: 'timestamptz' }, nullable: true, toastable: false });
const bytes = (name: string): ColumnSchema => ({ name, type: 'bytea', logicalType: { kind: 'bytes' }, nullable: true, toastable: true });

/**
 * `_cdc/batches`: the processing log, one row per committed batch: pipeline, batch number,
 * checkpoint (JSON), tables (JSON: `[{ table: "<schema>/<table>", inserted, updated, deleted }]`),
 * source transactions, messages and row changes, commit time.
 */
const BATCHES: TableSchema = {
  id: { schema: BOOKKEEPING, name: 'batches' },
  columns: [text('pipeline'), int64('batch'), text('checkpoint'), text('tables'), int64('transactions'), int64('messages'), int64('changes'), timestamptz('committed_at')],
  primaryKey: [],
};
/** `_cdc/error_log`: errors that stopped a pipeline. */
const ERROR_LOG: TableSchema = {
  id: { schema: BOOKKEEPING, name: 'error_log' },
  columns: [text('pipeline'), timestamptz('occurred_at'), text('code'), text('message'), text('remedy')],
  primaryKey: [],
};
/** `_cdc/dead_letters`: source messages that could not be decoded. */
const DEAD_LETTERS: TableSchema = {
  id: { schema: BOOKKEEPING, name: 'dead_letters' },
  columns: [text('pipeline'), int64('batch'), text('topic'), text('broker_position'), bytes('key'), bytes('value'), text('error'), timestamptz('recorded_at')],
  primaryKey: [],
};

const nowMicros = () => BigInt(Date.now()) * 1000n;

/** Path of a table under the location: `<schema>/<table>`, each part URI-encoded. */
export function tablePath(id: TableId): string {
  return `${encodeURIComponent(id.schema)}/${encodeURIComponent(id.name)}`;
}

/** The Delta Lake sink for one pipeline. */
export class DeltaSink implements ChangeSink {
  readonly capabilities = DELTA_CAPABILITIES;
  private readonly writers = new Map<string, DeltaTable>();
  private readonly opening = new Map<string, Promise<DeltaTable>>();
  private lastBatch = 0;
  private merged: Checkpoint = EMPTY_CHECKPOINT;
  private snapshotWrites: Promise<void> = Promise.resolve();
  private readonly appId: string;

  private constructor(private readonly options: DeltaSinkOptions) {
    this.appId = `cdc-merge:${options.pipeline}`;
  }

  private get storage(): LakeStorage {
    return this.options.storage;
  }

  private statePath(file: string): string {
    return `${BOOKKEEPING}/pipelines/${encodeURIComponent(this.options.pipeline)}/${file}`;
  }

  /**
   * Opens the sink: reads the batch log, finishes a batch a crash interrupted, and reads the
   * checkpoint.
   * @throws {CdcError} TARGET_UNWRITABLE, TARGET_NOT_DELTA, DELTA_LOG_INVALID.
   */
  static async open(options: DeltaSinkOptions): Promise<DeltaSink> {
    const sink = new DeltaSink(options);
    await sink.recover();
    return sink;
  }

  /** Reads the last batch and checkpoint; finishes an interrupted batch (see the module comment). */
  private async recover(): Promise<void> {
    const batches = await readSnapshot(this.storage, tablePath(BATCHES.id));
    this.lastBatch = batches.txns.get(this.appId) ?? 0;
    this.merged = this.lastBatch > 0 ? await this.checkpointOfBatch(tablePath(BATCHES.id), batches.version) : EMPTY_CHECKPOINT;
    const intentBytes = await this.storage.read(this.statePath('intent.json'));
    if (intentBytes) {
      const intent = JSON.parse(new TextDecoder().decode(intentBytes)) as Intent;
      if (intent.batch > this.lastBatch) {
        this.options.log.warn({ batch: intent.batch }, 'delta: finishing a batch that a crash interrupted');
        for (const entry of intent.entries) await this.commitOnce(entry.table, intent.batch, entry.actions);
        this.lastBatch = intent.batch;
        this.merged = checkpointFromJson(intent.checkpoint);
      }
      await this.storage.delete(this.statePath('intent.json'));
    }
    this.definitions = new Map((await this.tables()).map((t) => [tableKey(t.id), t]));
    const idleBytes = await this.storage.read(this.statePath('positions.json'));
    if (idleBytes) {
      const idle = JSON.parse(new TextDecoder().decode(idleBytes)) as IdlePositions;
      if (idle.afterBatch === this.lastBatch) this.merged = checkpointFromJson(idle.checkpoint);
    }
  }

  /** The checkpoint in the commitInfo of this pipeline's newest commit to the table at `path` (searching back from `version`). */
  private async checkpointOfBatch(path: string, version: number): Promise<Checkpoint> {
    for (let v = version; v >= 0; v--) {
      const bytes = await this.storage.read(commitPath(path, v));
      if (!bytes) continue;
      for (const action of parseCommit(new TextDecoder().decode(bytes), commitPath(path, v))) {
        if ('commitInfo' in action) {
          const info = action.commitInfo.cdcMerge as { appId?: string; checkpoint?: CheckpointJson } | undefined;
          if (info?.appId === this.appId && info.checkpoint) return checkpointFromJson(info.checkpoint);
        }
      }
    }
    return EMPTY_CHECKPOINT;
  }

  /**
   * Commits a stored entry unless the table already has this pipeline's txn at `batch`.
   * @throws {CdcError} DELTA_CONCURRENT_WRITE when another writer removed files the entry removes.
   */
  private async commitOnce(path: string, batch: number, actions: readonly DeltaAction[]): Promise<void> {
    for (;;) {
      const snapshot = await readSnapshot(this.storage, path);
      if ((snapshot.txns.get(this.appId) ?? 0) >= batch) return;
      const lost = actions.find((a) => 'remove' in a && !snapshot.files.has(a.remove.path));
      if (lost && 'remove' in lost) {
        throw new CdcError('DELTA_CONCURRENT_WRITE', `${this.storage.description}/${path}: batch ${batch} cannot be finished: another writer removed ${lost.remove.path}, which it rewrites`, {
          remedy: 'stop the other writer; then copy the table again with cdc run --resync',
        });
      }
      const outcome = await commitVersion(this.storage, path, snapshot.version + 1, actions);
      if (outcome.committed) return;
    }
  }

  /** The writer of a table already opened, or undefined. */
  openWriter(id: TableId): DeltaTable | undefined {
    return this.writers.get(tableKey(id));
  }

  /** A table's shape as stored by an earlier run (`tables.json`), or undefined. */
  storedDefinition(id: TableId): TableSchema | undefined {
    return this.definitions.get(tableKey(id));
  }

  /** Stored shapes, read at open. */
  private definitions = new Map<string, TableSchema>();

  /** The table's writer, opened (and created) on first use. */
  async table(schema: TableSchema): Promise<DeltaTable> {
    const key = tableKey(schema.id);
    const open = this.writers.get(key);
    if (open) return open;
    let pending = this.opening.get(key);
    if (!pending) {
      const options = { ...this.options.tableDefaults, ...(this.options.tableSettings?.(schema.id) ?? {}) };
      pending = DeltaTable.open(this.storage, tablePath(schema.id), schema, options, this.options.log);
      this.opening.set(key, pending);
    }
    try {
      const table = await pending;
      this.writers.set(key, table);
      return table;
    } finally {
      this.opening.delete(key);
    }
  }

  async prepare(tables: readonly TableSchema[]): Promise<void> {
    for (const t of tables) {
      if (t.id.schema === BOOKKEEPING) {
        throw new CdcError('CONFIG_INVALID', `source table ${formatTableId(t.id)} would land where the Delta sink keeps its own tables (${BOOKKEEPING}/)`, {
          remedy: `leave schema ${BOOKKEEPING} out of the selection (--tables)`,
        });
      }
      await (await this.table(t)).addMissingColumns();
    }
    await this.table(BATCHES);
    await this.storeDefinitions();
  }

  checkpoint(): Promise<Checkpoint> {
    return Promise.resolve(this.merged);
  }

  /** The source tables' shapes as last stored (`tables.json`), for sources whose tables arrive with the events. */
  async tables(): Promise<readonly TableSchema[]> {
    const bytes = await this.storage.read(this.statePath('tables.json'));
    return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as TableSchema[]) : [];
  }

  /** Stores the shapes of the tables written so far (after a batch that changed one). */
  private async storeDefinitions(): Promise<void> {
    // The shapes read at open, updated with the writers' current ones: no need to read the file again.
    for (const w of this.writers.values()) if (w.source.id.schema !== BOOKKEEPING) this.definitions.set(tableKey(w.source.id), w.source);
    await this.storage.replace(this.statePath('tables.json'), new TextEncoder().encode(JSON.stringify([...this.definitions.values()])));
  }

  private async readSnapshotStates(): Promise<SnapshotStateJson[]> {
    const bytes = await this.storage.read(this.statePath('snapshots.json'));
    return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as SnapshotStateJson[]) : [];
  }

  /** Replaces one table's copy state (serialized: chunks of several tables finish concurrently). */
  private updateSnapshotState(id: TableId, change: (current: SnapshotStateJson | undefined) => SnapshotStateJson): Promise<void> {
    const write = this.snapshotWrites.then(async () => {
      const states = await this.readSnapshotStates();
      const at = states.findIndex((s) => s.schema === id.schema && s.name === id.name);
      const next = change(at >= 0 ? states[at] : undefined);
      if (at >= 0) states[at] = next;
      else states.push(next);
      await this.storage.replace(this.statePath('snapshots.json'), new TextEncoder().encode(JSON.stringify(states, null, 1)));
    });
    this.snapshotWrites = write.catch(() => undefined);
    return write;
  }

  async snapshotStates(): Promise<TableSnapshotState[]> {
    return (await this.readSnapshotStates()).map((s) => ({
      table: { schema: s.schema, name: s.name },
      state: s.state,
      snapshotPosition: s.position === null ? null : positionFromHex(s.position),
      rowsCopied: s.rows,
      sourceIdentity: s.sourceIdentity,
    }));
  }

  async beginTableSnapshot(table: TableSchema, position: PositionBase, sourceIdentity?: string): Promise<void> {
    const writer = await this.table(table);
    writer.relation(table);
    await this.updateSnapshotState(table.id, () => ({ schema: table.id.schema, name: table.id.name, state: 'copying', position: position.hex, rows: 0, sourceIdentity: sourceIdentity ?? null }));
    await writer.removeAll([{ commitInfo: { timestamp: Date.now(), operation: 'DELETE', engineInfo: 'cdc-merge', operationParameters: { reason: 'a new copy of the source table starts' } } }]);
  }

  async loadSnapshotChunk(table: TableSchema, rows: Readable): Promise<number> {
    const writer = await this.table(table);
    const at = writer.sourcePositions(table);
    const columns = writer.columns;
    const flag = columns.findIndex((c) => c.name === SOFT_DELETE_COLUMN);
    let part: LakeValue[][] = [];
    let total = 0;
    const flush = async () => {
      if (part.length === 0) return;
      const rowsNow = part;
      part = [];
      await writer.append(rowsNow, [{ commitInfo: { timestamp: Date.now(), operation: 'WRITE', engineInfo: 'cdc-merge', isBlindAppend: true, operationParameters: { mode: 'Append', reason: 'initial copy' } } }]);
    };
    for await (const values of readCopyTextRows(rows, table.columns.length)) {
      const row = new Array<LakeValue>(columns.length).fill(null);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v === 'string') row[at[i]!] = columns[at[i]!]!.convert(v);
      }
      if (flag >= 0) row[flag] = false;
      part.push(row);
      total++;
      if (part.length >= this.options.tableDefaults.maxRowsPerFile) await flush();
    }
    await flush();
    return total;
  }

  async finishTableSnapshot(table: TableSchema, position: PositionBase, rowsCopied: number): Promise<void> {
    await this.updateSnapshotState(table.id, (s) => ({ schema: table.id.schema, name: table.id.name, state: 'done', position: position.hex, rows: rowsCopied, sourceIdentity: s?.sourceIdentity ?? null }));
  }

  async forgetTableSnapshot(table: TableSchema): Promise<void> {
    await this.updateSnapshotState(table.id, (s) => ({ schema: table.id.schema, name: table.id.name, state: 'pending', position: null, rows: 0, sourceIdentity: s?.sourceIdentity ?? null }));
  }

  async reset(): Promise<void> {
    await this.storage.delete(this.statePath('snapshots.json'));
    await this.storage.delete(this.statePath('positions.json'));
    // The batch log keeps its rows (history); the checkpoint restarts empty.
    this.merged = EMPTY_CHECKPOINT;
    await this.storage.replace(this.statePath('positions.json'), new TextEncoder().encode(JSON.stringify({ afterBatch: this.lastBatch, checkpoint: checkpointToJson(EMPTY_CHECKPOINT) } satisfies IdlePositions)));
  }

  openBatch(): Promise<SinkBatch> {
    return Promise.resolve(new DeltaBatch(this));
  }

  async recordPositions(positions: readonly PartitionPosition[]): Promise<void> {
    await this.storeIdle(advance(this.merged, { positions, watermarks: [] }));
  }

  private async storeIdle(checkpoint: Checkpoint): Promise<void> {
    const idle: IdlePositions = { afterBatch: this.lastBatch, checkpoint: checkpointToJson(checkpoint) };
    await this.storage.replace(this.statePath('positions.json'), new TextEncoder().encode(JSON.stringify(idle)));
    this.merged = checkpoint;
  }

  async recordError(error: unknown): Promise<void> {
    try {
      const table = await this.table(ERROR_LOG);
      const remedy = error instanceof CdcError && error.remedy !== undefined ? redactText(error.remedy) : null;
      const code = error instanceof CdcError ? error.code : null;
      await table.append([[this.options.pipeline, nowMicros(), code, redactedMessage(error), remedy]], [{ commitInfo: { timestamp: Date.now(), operation: 'WRITE', engineInfo: 'cdc-merge', isBlindAppend: true } }]);
    } catch (failure) {
      this.options.log.warn({ error: redactedMessage(failure) }, `could not write ${BOOKKEEPING}/error_log`);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Commits a batch (see the module comment for the order of steps). */
  async commitBatch(batch: DeltaBatch, update: CheckpointUpdate, counts: BatchCounts, started: number): Promise<BatchStats> {
    const checkpoint = advance(this.merged, update);
    const stats = (): BatchStats => ({ transactions: counts.transactions, messages: counts.messages, changes: batch.changes, durationMs: Date.now() - started });
    const touched = [...batch.perTable.values()].filter((t) => t.changes.truncated || t.changes.keyed.size > 0 || t.changes.rows.size > 0 || t.schemaChanged);
    if (touched.length === 0 && batch.deadLetters.length === 0) {
      await this.storeIdle(checkpoint);
      return stats();
    }
    const number = this.lastBatch + 1;
    const info = (operation: string, metrics: Record<string, number>) => ({
      commitInfo: { timestamp: Date.now(), operation, engineInfo: 'cdc-merge', operationMetrics: metrics, cdcMerge: { appId: this.appId, batch: number, checkpoint: checkpointToJson(checkpoint) } },
    });
    const txn: DeltaAction = { txn: { appId: this.appId, version: number, lastUpdated: Date.now() } };
    const plans: { writer: DeltaTable; plan: PlannedCommit; actions: DeltaAction[] }[] = [];
    for (const entry of touched) {
      const plan = await entry.writer.planMerge(entry.changes);
      if (plan.actions.length === 0) continue;
      plans.push({ writer: entry.writer, plan, actions: [info(plan.operation, { ...plan.counts }), txn, ...plan.actions] });
    }
    if (batch.deadLetters.length > 0) {
      const dead = await this.table(DEAD_LETTERS);
      const rows = new Map<string, { count: number; row: LakeValue[] }>();
      batch.deadLetters.forEach((d, i) => {
        const row: LakeValue[] = [this.options.pipeline, BigInt(number), d.topic, d.brokerPosition, d.key, d.value, d.error, nowMicros()];
        rows.set(`${i}`, { count: 1, row });
      });
      const plan = await dead.planMerge({ truncated: false, keyed: new Map(), rows });
      plans.push({ writer: dead, plan, actions: [info('WRITE', { rows: batch.deadLetters.length }), txn, ...plan.actions] });
    }
    const log = await this.table(BATCHES);
    // Per table of the batch: its path and what the merge did, for the processing log and `cdc status`.
    const tables = JSON.stringify(plans.map((p) => ({ table: p.plan.table, inserted: p.plan.counts.inserted, updated: p.plan.counts.updated, deleted: p.plan.counts.deleted })));
    const logRow: LakeValue[] = [this.options.pipeline, BigInt(number), JSON.stringify(checkpointToJson(checkpoint)), tables, BigInt(counts.transactions), BigInt(counts.messages), BigInt(batch.changes), nowMicros()];
    const logPlan = await log.planMerge({ truncated: false, keyed: new Map(), rows: new Map([['0', { count: 1, row: logRow }]]) });
    plans.push({ writer: log, plan: logPlan, actions: [info('WRITE', { rows: 1 }), txn, ...logPlan.actions] });
    crashPoint('delta:after-data-files');

    const intent: Intent = { batch: number, checkpoint: checkpointToJson(checkpoint), entries: plans.map((p) => ({ table: p.plan.table, actions: p.actions })) };
    await this.storage.replace(this.statePath('intent.json'), new TextEncoder().encode(JSON.stringify(intent)));
    crashPoint('delta:after-intent');
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      await p.writer.commit({ ...p.plan, actions: p.actions }, []);
      if (i === 0) crashPoint('delta:between-tables');
    }
    crashPoint('delta:before-intent-removed');
    await this.storage.delete(this.statePath('intent.json'));
    this.lastBatch = number;
    this.merged = checkpoint;
    if (batch.shapesChanged) await this.storeDefinitions();
    for (const p of plans) await this.compactIfNeeded(p.writer);
    return stats();
  }

  /**
   * Compacts a table whose small files reached {@link DeltaTableOptions.compactAfterFiles} (a
   * commit of its own, without a data change, after the batch). A failure only warns: the next
   * batch tries again, and `cdc compact` does the same by command.
   */
  private async compactIfNeeded(writer: DeltaTable): Promise<void> {
    const threshold = this.options.tableDefaults.compactAfterFiles ?? DEFAULT_COMPACT_AFTER_FILES;
    if (threshold <= 0 || writer.smallFiles() < threshold) return;
    try {
      const version = await writer.compact();
      if (version !== undefined) this.options.log.info({ table: writer.description, version }, 'delta: small files compacted');
    } catch (error) {
      this.options.log.warn({ table: writer.description, error: redactedMessage(error) }, 'delta: compaction failed; the next batch tries again');
    }
  }
}

/** One table's part of a batch. */
interface BatchTable {
  readonly writer: DeltaTable;
  readonly changes: TableChanges;
  /** Source column → table column, for the source's current shape. */
  positions: number[];
  keyAt: number[];
  schemaChanged: boolean;
}

/** A batch of the Delta sink: changes coalesced per table and key in memory, committed by {@link DeltaSink.commitBatch}. */
class DeltaBatch implements SinkBatch {
  readonly perTable = new Map<string, BatchTable>();
  readonly deadLetters: DeadLetter[] = [];
  changes = 0;
  /** A relation message came: the stored shapes are written after the commit. */
  shapesChanged = false;
  private readonly started = Date.now();
  constructor(private readonly sink: DeltaSink) {}

  private tableOf(schema: TableSchema): Promise<DeltaTable> {
    return this.sink.table(schema);
  }

  async relation(table: TableSchema): Promise<void> {
    this.shapesChanged = true;
    const writer = await this.tableOf(table);
    const { changed } = writer.relation(table);
    const entry = this.entry(tableKey(table.id), writer);
    entry.positions = writer.sourcePositions(table);
    entry.keyAt = writer.keyPositions();
    if (changed) entry.schemaChanged = true;
  }

  private entry(key: string, writer: DeltaTable): BatchTable {
    let entry = this.perTable.get(key);
    if (!entry) {
      entry = { writer, changes: { truncated: false, keyed: new Map(), rows: new Map() }, positions: writer.sourcePositions(writer.source), keyAt: writer.keyPositions(), schemaChanged: false };
      this.perTable.set(key, entry);
    }
    return entry;
  }

  /** A source row in table column order (columns the source lacks: null). */
  private convert(entry: BatchTable, values: readonly (string | null | typeof UNCHANGED)[]): PendingValue[] {
    const columns = entry.writer.columns;
    const out = new Array<PendingValue>(columns.length).fill(null);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const at = entry.positions[i]!;
      out[at] = v === null || v === undefined ? null : v === UNCHANGED ? UNCHANGED : columns[at]!.convert(v);
    }
    return out;
  }

  row(change: RowChangeMessage): Promise<void> | undefined {
    const key = tableKey(change.table);
    const entry = this.perTable.get(key);
    if (!entry) {
      return (async () => {
        const writer = await this.tableOf(this.sourceSchema(change.table));
        this.entry(key, writer);
        this.apply(this.perTable.get(key)!, change);
      })();
    }
    this.apply(entry, change);
    return undefined;
  }

  private sourceSchema(id: TableId): TableSchema {
    const writer = [...this.perTable.values()].find((t) => t.writer.source.id.schema === id.schema && t.writer.source.id.name === id.name);
    if (writer) return writer.writer.source;
    const open = this.sink.openWriter(id);
    if (open) return open.source;
    const stored = this.sink.storedDefinition(id);
    if (stored) return stored;
    throw new CdcError('INTERNAL', `a row change of ${formatTableId(id)} came before its table's shape`, { remedy: 'report this as a bug' });
  }

  private apply(entry: BatchTable, change: RowChangeMessage): void {
    this.changes++;
    const { keyed, rows } = entry.changes;
    const keyOf = (row: readonly PendingValue[]) => keyText(entry.keyAt.map((i) => (row[i] === UNCHANGED ? null : row[i]) as LakeValue));
    if (entry.writer.keyless) {
      const bump = (row: LakeValue[], by: number) => {
        const k = keyText(row);
        const rc = rows.get(k);
        if (rc) rc.count += by;
        else rows.set(k, { count: by, row });
      };
      if (change.kind === 'insert') bump(this.convert(entry, change.row) as LakeValue[], 1);
      else if (change.kind === 'delete') bump(this.convert(entry, change.oldRow) as LakeValue[], -1);
      else {
        const old = change.oldRow ? (this.convert(entry, change.oldRow) as LakeValue[]) : undefined;
        const next = this.convert(entry, change.row).map((v, i) => (v === UNCHANGED ? (old?.[i] ?? null) : v));
        if (old) bump(old, -1);
        bump(next, 1);
      }
      return;
    }
    if (change.kind === 'delete') {
      keyed.set(keyOf(this.convert(entry, change.oldRow)), { kind: 'delete' });
      return;
    }
    const row = this.convert(entry, change.row);
    const key = keyOf(row);
    let fillFrom: string | undefined;
    let base: PendingValue[] | undefined;
    if (change.kind === 'update' && change.oldRow) {
      const oldKey = keyOf(this.convert(entry, change.oldRow));
      if (oldKey !== key) {
        const moved = keyed.get(oldKey);
        if (moved?.kind === 'upsert') {
          base = moved.row;
          fillFrom = moved.fillFrom;
        } else if (!moved) {
          fillFrom = oldKey;
        }
        keyed.set(oldKey, { kind: 'delete' });
      }
    }
    if (!base) {
      const previous = keyed.get(key);
      if (previous?.kind === 'upsert') {
        base = previous.row;
        fillFrom = previous.fillFrom;
      }
    }
    const merged = base ? row.map((v, i) => (v === UNCHANGED ? (base[i] ?? null) : v)) : row;
    keyed.set(key, fillFrom === undefined ? { kind: 'upsert', row: merged } : { kind: 'upsert', row: merged, fillFrom });
  }

  async truncate(tables: readonly TableId[]): Promise<void> {
    for (const id of tables) {
      const writer = await this.tableOf(this.sourceSchema(id));
      const entry = this.entry(tableKey(id), writer);
      entry.changes.truncated = true;
      entry.changes.keyed.clear();
      entry.changes.rows.clear();
    }
  }

  deadLetter(entry: DeadLetter): Promise<void> {
    this.deadLetters.push(entry);
    return Promise.resolve();
  }

  commit(checkpoint: CheckpointUpdate, counts: BatchCounts): Promise<BatchStats> {
    return this.sink.commitBatch(this, checkpoint, counts, this.started);
  }

  rollback(): Promise<void> {
    return Promise.resolve();
  }
}
