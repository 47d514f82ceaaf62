/**
 * One Delta table as the sink writes it: created with the protocol and properties it needs,
 * read back from its log, and merged into copy-on-write: a batch's changes (the last change
 * per key) rewrite only the data files that hold their keys, found through a primary-key →
 * file index; new keys go to new files; every commit that rewrites or removes rows also writes
 * `_change_data/` files with `_change_type` insert, update_preimage, update_postimage and delete,
 * so the Change Data Feed reads exactly the batch's net changes.
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md (Change Data Files, Add CDC
 *   File, Writer Requirements for AddCDCFile, Per-file Statistics)
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CdcError } from '../../errors.js';
import { UNCHANGED } from '../../events/change.js';
import { formatTableId, type TableSchema } from '../../schema/table.js';
import { readParquetColumns, writeParquet, type LakeColumn, type LakeValue } from '../lake/parquet.js';
import type { LakeStorage } from '../lake/storage.js';
import { deltaColumns, deltaSchemaString, lakeTypeOfDelta, postgresTypeOfDelta, usesTimestampNtz, type DeltaColumn, type DeltaType } from './delta-types.js';
import { logicalTypeOf } from '../../schema/type-map.js';
import { decideChanges, type SchemaChangePolicy } from '../../schema/schema-change-policy.js';
import { diffTable } from '../../schema/schema-diff.js';
import { checkpointIfDue } from './checkpoint.js';
import { applyActions, commitVersion, readSnapshot, type AddAction, type DeltaAction, type DeltaSnapshot, type MetaDataAction, type ProtocolAction, type RemoveAction } from './delta-log.js';
import { deltaStatsJson } from './file-stats.js';
import { checkPartitionColumn, parsePartitionValue, partitionDirectory, pathToUri, serializePartitionValue, uriToPath } from './partitions.js';
import { KeyIndex, KeyIndexMismatch, keysOfColumns, keyText } from './key-index.js';
import { dataFileOfSidecar, keySidecarPath, loadKeyIndex, writeKeySidecar } from './key-sidecar.js';
import { readVector, relativeVectorPath, unionPositions, vectorFile, vectorUniqueId } from './deletion-vector.js';

export { keyText } from './key-index.js';

/** A row value in a batch: a stored value, or {@link UNCHANGED} (keep the target's). */
export type PendingValue = LakeValue | typeof UNCHANGED;

/** The last change of one key in a batch (keyed tables). */
export type KeyedChange =
  | { readonly kind: 'upsert'; readonly row: PendingValue[]; readonly fillFrom?: string }
  | { readonly kind: 'delete' };

/** The net count of one whole row in a batch (tables without a primary key). */
export interface RowCount {
  count: number;
  readonly row: LakeValue[];
}

/** What a batch does to one table, after coalescing (DESIGN.md §3.4). */
export interface TableChanges {
  /** TRUNCATE came in the batch: every row before it is gone; `keyed`/`rows` hold what followed. */
  truncated: boolean;
  /** Keyed tables: the last change per key. */
  readonly keyed: Map<string, KeyedChange>;
  /** Keyless tables: net row counts per whole row. */
  readonly rows: Map<string, RowCount>;
}

/** Counts of a planned commit, for commitInfo and batch statistics (rows). */
export interface MergeCounts {
  inserted: number;
  updated: number;
  deleted: number;
  copied: number;
  filesAdded: number;
  filesRemoved: number;
}

/** A commit prepared for one table: its data and change files are written, its log entry not yet. */
export interface PlannedCommit {
  /** Table path (relative to the storage root). */
  readonly table: string;
  /** The version the plan was made against. */
  readonly readVersion: number;
  /** Actions of the log entry (without txn and commitInfo). */
  readonly actions: DeltaAction[];
  readonly counts: MergeCounts;
  readonly operation: string;
  /** Keys of each data file written, for the key index once committed (not kept in intents). */
  readonly keys?: ReadonlyMap<string, readonly string[]>;
  /** Positions of the rows each file that stays (with a new deletion vector) loses, ascending (not kept in intents). */
  readonly deletedRows?: ReadonlyMap<string, readonly number[]>;
}

/** Table options (cdc.yaml `target.tables` / defaults). */
export interface DeltaTableOptions {
  /** Write `_change_data/` files and set `delta.enableChangeDataFeed` (default true). */
  readonly changeDataFeed: boolean;
  /** Rows per data file at most (a target file size in rows). */
  readonly maxRowsPerFile: number;
  /**
   * Keep deleted rows, flagged `_cdc_deleted = true`, instead of removing them (DESIGN.md §3.4):
   * the sink's default, overridden by the table definition's `options.softDelete`. Tables without
   * a primary key always delete.
   */
  readonly softDelete?: boolean;
  /**
   * Partition columns of a table this sink creates (`partition_by`); an existing table keeps
   * its own. Empty or absent: not partitioned.
   */
  readonly partitionBy?: readonly string[];
  /**
   * Compact a table once this many of its data files are small (under half of
   * `maxRowsPerFile` rows), after a batch; 0 turns automatic compaction off (default
   * {@link DEFAULT_COMPACT_AFTER_FILES}).
   */
  readonly compactAfterFiles?: number;
  /** A log checkpoint every this many versions (default 100; the table's `delta.checkpointInterval` wins). */
  readonly checkpointInterval?: number;
  /**
   * What source drops, renames and type changes do to the table (cdc.yaml `schema_changes`;
   * default {@link DEFAULT_DELTA_SCHEMA_POLICY}): applied drops and renames go through column
   * mapping; a type change to another Delta type stops with DELTA_SCHEMA_CONFLICT.
   */
  readonly schemaPolicy?: SchemaChangePolicy;
  /**
   * Merge with deletion vectors (`deletion_vectors`): a batch marks the changed rows of a file
   * deleted and writes only their new versions, instead of rewriting the file. Turns on the
   * table feature `deletionVectors` (reader 3, writer 7) and `delta.enableDeletionVectors`,
   * also on an existing table (its next commit upgrades the protocol). Default false.
   */
  readonly deletionVectors?: boolean;
}

/**
 * The schema-change policy of Delta tables where cdc.yaml's `schema_changes` says nothing: drops
 * and renames kept out (a dropped column stays, null in new rows; a renamed one arrives as a new
 * column), because applying them turns on column mapping, whose change feed delta-rs 1.6 cannot
 * read ("Column mapping is not supported for read operation 'CHANGE DATA FEED scans'"); type
 * changes to another Delta type stop (DELTA_SCHEMA_CONFLICT).
 */
export const DEFAULT_DELTA_SCHEMA_POLICY: SchemaChangePolicy = { drop: 'ignore', typeChange: 'apply', rename: 'ignore' };

/** A field of a stored Delta schema (PROTOCOL.md "Schema Serialization Format"). */
interface StoredField {
  readonly name: string;
  readonly type: DeltaType;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** A field's column mapping metadata, when it has both the id and the physical name. */
function mappingOf(field: StoredField): DeltaColumn['mapping'] {
  const id = field.metadata?.['delta.columnMapping.id'];
  const physicalName = field.metadata?.['delta.columnMapping.physicalName'];
  return typeof id === 'number' && typeof physicalName === 'string' ? { id, physicalName } : undefined;
}

/** `column` with `mapping`: its values in files under the physical name, with the id as Parquet field_id. */
function withMapping(column: DeltaColumn, mapping: DeltaColumn['mapping']): DeltaColumn {
  if (!mapping) return column;
  return { ...column, mapping, lake: { ...column.lake, name: mapping.physicalName, fieldId: mapping.id } };
}

/** Small files of a table that start an automatic compaction after a batch. */
export const DEFAULT_COMPACT_AFTER_FILES = 32;

/** The column that flags a deleted row when deleted rows stay (soft delete), as on PostgreSQL targets. */
export const SOFT_DELETE_COLUMN = '_cdc_deleted';

const CHANGE_TYPE: LakeColumn = { name: '_change_type', type: { kind: 'string' }, nullable: false };

function isTimestampNtzNeeded(columns: readonly { deltaType: DeltaType }[]): boolean {
  return columns.some((c) => usesTimestampNtz(c.deltaType));
}

/**
 * The protocol a table of `columns` needs: (1,2), (1,4) with CDF, or (3,7) with table features
 * for timestamp_ntz, deletion vectors and column mapping (PROTOCOL.md "Table Features").
 */
export function protocolFor(columns: readonly { deltaType: DeltaType }[], changeDataFeed: boolean, deletionVectors = false, columnMapping = false): ProtocolAction {
  const readerFeatures = [...(isTimestampNtzNeeded(columns) ? ['timestampNtz'] : []), ...(deletionVectors ? ['deletionVectors'] : []), ...(columnMapping ? ['columnMapping'] : [])];
  if (readerFeatures.length === 0) return { minReaderVersion: 1, minWriterVersion: changeDataFeed ? 4 : 2 };
  return {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures,
    writerFeatures: changeDataFeed ? [...readerFeatures, 'changeDataFeed'] : readerFeatures,
  };
}

/**
 * `current` raised to cover `needed`: the higher versions, and at (3,7) every feature either
 * lists (a legacy (1,4) table's CDF becomes the `changeDataFeed` writer feature).
 * @returns undefined when `current` already covers `needed`.
 */
export function raiseProtocol(current: ProtocolAction, needed: ProtocolAction): ProtocolAction | undefined {
  const readerOf = (p: ProtocolAction): string[] => [...(p.readerFeatures ?? [])];
  // A legacy writer version 4 implies CDF (PROTOCOL.md "Table Features", legacy versions).
  const writerOf = (p: ProtocolAction): string[] => [...(p.writerFeatures ?? (p.minWriterVersion >= 4 && p.minWriterVersion < 7 ? ['changeDataFeed'] : []))];
  if (needed.minWriterVersion < 7) {
    if (current.minWriterVersion >= 7) {
      const writer = writerOf(current);
      return needed.minWriterVersion >= 4 && !writer.includes('changeDataFeed') ? { ...current, writerFeatures: [...writer, 'changeDataFeed'] } : undefined;
    }
    if (needed.minReaderVersion <= current.minReaderVersion && needed.minWriterVersion <= current.minWriterVersion) return undefined;
    return { minReaderVersion: Math.max(current.minReaderVersion, needed.minReaderVersion), minWriterVersion: Math.max(current.minWriterVersion, needed.minWriterVersion) };
  }
  const readerFeatures = [...new Set([...readerOf(current), ...readerOf(needed)])];
  const writerFeatures = [...new Set([...writerOf(current), ...writerOf(needed), ...readerFeatures])];
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((f) => b.includes(f));
  if (current.minReaderVersion >= 3 && current.minWriterVersion >= 7 && same(readerFeatures, readerOf(current)) && same(writerFeatures, writerOf(current))) return undefined;
  return { minReaderVersion: 3, minWriterVersion: 7, readerFeatures, writerFeatures };
}

/** The remove action of a live file (its deletion vector included: the logical file is (path, vector)). */
function removeOf(add: AddAction, dataChange: boolean, now: number): RemoveAction {
  return { path: add.path, deletionTimestamp: now, dataChange, extendedFileMetadata: true, partitionValues: add.partitionValues, size: add.size, ...(add.deletionVector ? { deletionVector: add.deletionVector } : {}) };
}

/**
 * A file's statistics text with `tightBounds: false` (its deletion vector hides some rows, so
 * its min and max may be wider than its live rows', PROTOCOL.md "Per-file Statistics"). Edited
 * as text, never parsed into numbers: int64 and decimal bounds beyond 2^53 stay exact.
 */
export function wideBounds(stats: string): string {
  const text = stats.trim();
  if (/"tightBounds"\s*:\s*(true|false)/.test(text)) return text.replace(/"tightBounds"\s*:\s*(true|false)/, '"tightBounds":false');
  if (!text.endsWith('}')) return text;
  const body = text.slice(0, -1).trimEnd();
  return `${body}${body.endsWith('{') ? '' : ','}"tightBounds":false}`;
}

/** How many rows of a file its deletion vector deletes (0 without one). */
function deletedRows(add: AddAction): number {
  return add.deletionVector?.cardinality ?? 0;
}

/** Physical rows of a file (stats.numRecords; undefined without stats). */
function physicalRows(add: AddAction): number | undefined {
  if (!add.stats) return undefined;
  return (JSON.parse(add.stats) as { numRecords?: number }).numRecords;
}

/** A Delta table the sink writes. */
export class DeltaTable {
  /** Columns in the Delta table's order (source columns, plus any the source dropped). */
  columns: DeltaColumn[];
  private index: KeyIndex | undefined;
  /** Columns an applied drop removed in this process: kept in {@link columns} (rows are laid out with them), never written. */
  private readonly dropped = new Set<DeltaColumn>();
  /** Data files whose key sidecar disagreed with them in this run: the index reads their keys from the file. */
  private readonly distrusted = new Set<string>();
  /** The key columns {@link index} was built for (undefined: the current ones, as for a new table). */
  private indexColumns: string | undefined;

  private constructor(
    private readonly storage: LakeStorage,
    /** Table path relative to the storage root: `<schema>/<table>`. */
    readonly path: string,
    /** The source table as last seen. */
    public source: TableSchema,
    public snapshot: DeltaSnapshot,
    private readonly options: DeltaTableOptions,
    private readonly log: Logger,
  ) {
    this.columns = this.sourceColumns(source);
  }

  /** The Delta table's description for messages: `<location>/<schema>/<table>`. */
  get description(): string {
    return `${this.storage.description}/${this.path}`;
  }

  /**
   * Opens the table at `path`, creating it (version 0: protocol, metaData, commitInfo) when it
   * has no log yet.
   * @throws {CdcError} TARGET_NOT_DELTA, DELTA_LOG_INVALID (see readSnapshot);
   *   DELTA_SCHEMA_CONFLICT when an existing table lacks a source column's compatible type.
   */
  static async open(storage: LakeStorage, path: string, source: TableSchema, options: DeltaTableOptions, log: Logger): Promise<DeltaTable> {
    let snapshot = await readSnapshot(storage, path);
    const table = new DeltaTable(storage, path, source, snapshot, options, log);
    if (snapshot.version === -1) {
      const partitionBy = [...(options.partitionBy ?? [])];
      for (const column of partitionBy) checkPartitionColumn(table.description, column, table.columns.find((c) => c.name === column)?.lake.type);
      const metaData: MetaDataAction = {
        id: randomUUID(),
        format: { provider: 'parquet', options: {} },
        schemaString: deltaSchemaString(table.columns),
        partitionColumns: partitionBy,
        configuration: {
          ...(options.changeDataFeed ? { 'delta.enableChangeDataFeed': 'true' } : {}),
          ...(options.deletionVectors ? { 'delta.enableDeletionVectors': 'true' } : {}),
        },
        createdTime: Date.now(),
      };
      const actions: DeltaAction[] = [
        { commitInfo: { timestamp: Date.now(), operation: 'CREATE TABLE', engineInfo: 'cdc-merge', isBlindAppend: true } },
        { protocol: protocolFor(table.columns, options.changeDataFeed, options.deletionVectors) },
        { metaData },
      ];
      const outcome = await commitVersion(storage, path, 0, actions);
      snapshot = outcome.committed ? applyActions(snapshot, 0, actions) : await readSnapshot(storage, path);
      table.snapshot = snapshot;
      table.index = new KeyIndex();
    }
    const wanted = options.partitionBy ?? [];
    const stored = table.partitionColumns;
    if (wanted.length > 0 && JSON.stringify(wanted) !== JSON.stringify(stored)) {
      log.warn({ table: table.description, partition_by: wanted, partitionColumns: stored }, 'delta: the table exists with other partition columns; it keeps them (copy it again into a new location to change them)');
    }
    table.adoptStoredSchema();
    return table;
  }

  /** The stored schema's fields (metaData.schemaString). */
  private storedFields(): StoredField[] {
    return (JSON.parse(this.snapshot.metaData!.schemaString) as { fields: StoredField[] }).fields;
  }

  /** The table's column mapping mode (`delta.columnMapping.mode`): `none`, `name` or `id`. */
  get columnMappingMode(): string {
    return this.snapshot.metaData?.configuration['delta.columnMapping.mode'] ?? 'none';
  }

  /** The largest column id assigned so far (`delta.columnMapping.maxColumnId`, or the ids in use). */
  private maxColumnId(): number {
    const stored = Number(this.snapshot.metaData?.configuration['delta.columnMapping.maxColumnId'] ?? 0);
    return Math.max(Number.isFinite(stored) ? stored : 0, ...this.columns.map((c) => c.mapping?.id ?? 0));
  }

  /** Positions (in {@link columns}) of live columns the stored schema lacks: added since its last commit. */
  private newColumns(): number[] {
    const stored = new Set(this.storedFields().map((f) => mappingOf(f)?.physicalName ?? f.name));
    return this.columns.flatMap((c, i) => (this.dropped.has(c) || stored.has(c.lake.name) ? [] : [i]));
  }

  /** Columns the table has (not dropped by an applied drop in this process). */
  private liveColumns(): DeltaColumn[] {
    return this.columns.filter((c) => !this.dropped.has(c));
  }

  /** Aligns {@link columns} with the stored schema: its order, plus the source's new columns at the end. */
  private adoptStoredSchema(): void {
    const bySource = new Map(this.columns.map((c) => [c.name, c]));
    const ordered: DeltaColumn[] = [];
    for (const field of this.storedFields()) {
      const mine = bySource.get(field.name);
      if (mine) {
        if (JSON.stringify(mine.deltaType) !== JSON.stringify(field.type)) {
          throw new CdcError('DELTA_SCHEMA_CONFLICT', `${this.description}: column ${field.name} is ${JSON.stringify(field.type)} in the Delta table, but the source's ${formatTableId(this.source.id)}.${field.name} maps to ${JSON.stringify(mine.deltaType)}`, {
            remedy: 'copy the table again with cdc run --resync (after removing the Delta table), or change the source column back',
          });
        }
        ordered.push(withMapping(mine, mappingOf(field)));
        bySource.delete(field.name);
      } else {
        // A column the source no longer has (dropped while cdc-merge was stopped): kept, null in new rows.
        const column: DeltaColumn = { name: field.name, deltaType: field.type, lake: { name: field.name, type: lakeTypeOfDelta(field.type), nullable: true }, logical: { kind: 'text' }, convert: (t) => t };
        ordered.push(withMapping(column, mappingOf(field)));
      }
    }
    this.columns = ordered;
    for (const column of bySource.values()) this.columns.push(this.mapped(column));
  }

  /** A new column, with a new id and physical name when the table maps columns. */
  private mapped(column: DeltaColumn): DeltaColumn {
    if (this.columnMappingMode === 'none' && !this.columns.some((c) => c.mapping)) return column;
    return withMapping(column, { id: this.maxColumnId() + 1, physicalName: `col-${randomUUID()}` });
  }

  /**
   * Turns column mapping on (mode `name`, PROTOCOL.md "Column Mapping") for a drop or rename:
   * every column gets an id and keeps its current name as its physical name, so existing data
   * files are read as they are. The next commit writes the metaData and protocol.
   */
  private ensureColumnMapping(): void {
    if (this.columns.every((c) => c.mapping)) return;
    let id = this.maxColumnId();
    this.columns = this.columns.map((c) => (c.mapping ? c : withMapping(c, { id: ++id, physicalName: c.lake.name })));
  }

  /** A partition column cannot be renamed or dropped (its values live in the log under its name). */
  private checkNotPartition(column: string, what: string): void {
    if (!this.partitionColumns.includes(column)) return;
    throw new CdcError('DELTA_SCHEMA_CONFLICT', `${this.description}: the source ${what} partition column ${column}`, {
      remedy: 'copy the table again into a new location (remove its Delta directory and run cdc run --resync), or set schema_changes so the change is ignored or stops',
      context: { column },
    });
  }

  /**
   * The source's shape from here on, under the schema-change policy (DESIGN.md §3.8): new
   * columns join the table (at the end) in the next commit; an applied rename renames the
   * column and an applied drop drops it, both through column mapping (mode `name`, turned on
   * by the first of them), so no data file is rewritten; a kept (ignored) drop leaves the column,
   * null in new rows.
   * @throws {CdcError} DELTA_SCHEMA_CONFLICT when a column's type changed to another Delta type,
   *   or a partition column is renamed or dropped; SCHEMA_CHANGE_STOPPED where the policy stops.
   */
  relation(source: TableSchema): { added: string[]; changed: boolean } {
    const policy = this.options.schemaPolicy ?? DEFAULT_DELTA_SCHEMA_POLICY;
    const decided = decideChanges(diffTable(this.source, source, { renames: policy.rename !== 'ignore' }), policy);
    let schemaChanged = false;
    for (const { change, decision } of decided) {
      if (decision !== 'apply') continue;
      if (change.kind === 'COLUMN_RENAMED') {
        this.checkNotPartition(change.from, `renamed (to ${change.to})`);
        this.ensureColumnMapping();
        const at = this.columns.findIndex((c) => c.name === change.from && !this.dropped.has(c));
        if (at >= 0) this.columns[at] = { ...this.columns[at]!, name: change.to };
        schemaChanged = true;
      } else if (change.kind === 'COLUMN_REMOVED') {
        this.checkNotPartition(change.column, 'dropped');
        this.ensureColumnMapping();
        // Kept in place (rows of this batch are laid out with it), but no longer written.
        const column = this.columns.find((c) => c.name === change.column && !this.dropped.has(c));
        if (column) this.dropped.add(column);
        schemaChanged = true;
      }
    }
    const next = this.sourceColumns(source);
    const known = new Map(this.columns.flatMap((c, i) => (this.dropped.has(c) ? [] : [[c.name, i] as const])));
    const added: string[] = [];
    for (const column of next) {
      const at = known.get(column.name);
      if (at === undefined) {
        this.columns.push(this.mapped(column));
        added.push(column.name);
      } else if (JSON.stringify(this.columns[at]!.deltaType) !== JSON.stringify(column.deltaType)) {
        throw new CdcError('DELTA_SCHEMA_CONFLICT', `${this.description}: the source changed ${formatTableId(source.id)}.${column.name} to a type stored as ${JSON.stringify(column.deltaType)}, where the Delta table has ${JSON.stringify(this.columns[at]!.deltaType)}`, {
          remedy: 'copy the table again: remove its Delta directory and run cdc run --resync',
        });
      } else {
        this.columns[at] = withMapping(column, this.columns[at]!.mapping);
      }
    }
    if (JSON.stringify(this.source.primaryKey) !== JSON.stringify(source.primaryKey)) this.index = undefined;
    this.source = source;
    return { added, changed: schemaChanged || added.length > 0 };
  }

  /** Positions of the source's columns among {@link columns}. */
  sourcePositions(source: TableSchema): number[] {
    const at = new Map(this.columns.flatMap((c, i) => (this.dropped.has(c) ? [] : [[c.name, i] as const])));
    return source.columns.map((c) => at.get(c.name)!);
  }

  /** Positions of the key among {@link columns}: the primary key, or every column of a keyless table. */
  /** Whether deleted rows stay, flagged (see {@link DeltaTableOptions.softDelete}). */
  get softDelete(): boolean {
    return (this.source.options?.softDelete ?? this.options.softDelete ?? false) && this.source.primaryKey.length > 0;
  }

  /** The Delta columns of the source's columns, plus the soft-delete flag when deleted rows stay. */
  private sourceColumns(source: TableSchema): DeltaColumn[] {
    const columns = deltaColumns(source, this.log);
    const soft = (source.options?.softDelete ?? this.options.softDelete ?? false) && source.primaryKey.length > 0;
    if (soft) columns.push({ name: SOFT_DELETE_COLUMN, deltaType: 'boolean', lake: { name: SOFT_DELETE_COLUMN, type: { kind: 'bool' }, nullable: true }, logical: { kind: 'bool' }, convert: (t) => t === 't' || t === 'true' });
    return columns;
  }

  keyPositions(): number[] {
    if (this.source.primaryKey.length === 0) return this.columns.flatMap((c, i) => (this.dropped.has(c) ? [] : [i]));
    const at = new Map(this.columns.flatMap((c, i) => (this.dropped.has(c) ? [] : [[c.name, i] as const])));
    return this.source.primaryKey.map((k) => at.get(k)!);
  }

  get keyless(): boolean {
    return this.source.primaryKey.length === 0;
  }

  /** The stored value a column holds for rows that existed before it was added (the source's fast default). */
  private missingValue(column: DeltaColumn): LakeValue {
    const sourceColumn = this.source.columns.find((c) => c.name === column.name);
    const missing = sourceColumn?.missingValue;
    return missing === undefined || missing === null ? null : column.convert(missing);
  }

  /** Whether merges may write deletion vectors: the table has the feature and the property (PROTOCOL.md "Deletion Vectors"). */
  get deletionVectorsEnabled(): boolean {
    const { protocol, metaData } = this.snapshot;
    return (protocol?.readerFeatures ?? []).includes('deletionVectors') && metaData?.configuration['delta.enableDeletionVectors'] === 'true';
  }

  /**
   * The metaData and protocol actions a commit needs: when the columns grew, or when deletion
   * vectors are asked for and the table does not have them yet; else none.
   */
  private schemaUpdate(): DeltaAction[] {
    const metaData = this.snapshot.metaData!;
    const live = this.liveColumns();
    const schemaString = deltaSchemaString(live);
    const stored = this.storedFields();
    const schemaChanged =
      stored.length !== live.length ||
      live.some((c, i) => c.name !== stored[i]!.name || JSON.stringify(c.deltaType) !== JSON.stringify(stored[i]!.type) || JSON.stringify(c.mapping) !== JSON.stringify(mappingOf(stored[i]!)));
    const mapping = live.some((c) => c.mapping);
    const configuration: Record<string, string> = { ...metaData.configuration };
    if (this.options.deletionVectors) configuration['delta.enableDeletionVectors'] = 'true';
    if (mapping) {
      if (configuration['delta.columnMapping.mode'] === undefined || configuration['delta.columnMapping.mode'] === 'none') configuration['delta.columnMapping.mode'] = 'name';
      configuration['delta.columnMapping.maxColumnId'] = String(this.maxColumnId());
    }
    const configChanged = JSON.stringify(configuration) !== JSON.stringify(metaData.configuration);
    if (!schemaChanged && !configChanged && !this.options.deletionVectors && !mapping) return [];
    const actions: DeltaAction[] = [];
    if (schemaChanged || configChanged) actions.push({ metaData: { ...metaData, schemaString, configuration } });
    const protocol = raiseProtocol(this.snapshot.protocol!, protocolFor(live, this.options.changeDataFeed, this.options.deletionVectors, mapping));
    if (protocol) actions.push({ protocol });
    return actions;
  }

  private lakeColumns(): LakeColumn[] {
    return this.columns.map((c) => c.lake);
  }

  /**
   * Every row stored in a data file, deleted ones included, in {@link columns} order (columns the
   * file lacks read as null; partition values from the add action).
   */
  private async readPhysicalRows(path: string, columns: readonly LakeColumn[] = this.lakeColumns()): Promise<LakeValue[][]> {
    const read = await this.readPhysicalColumns(path, columns);
    const rows = new Array<LakeValue[]>(read.numRows);
    for (let r = 0; r < read.numRows; r++) {
      const row = new Array<LakeValue>(columns.length);
      for (let c = 0; c < columns.length; c++) row[c] = read.columns[c]![r]!;
      rows[r] = row;
    }
    return rows;
  }

  /**
   * Every row stored in a data file, deleted ones included, as one array per column of
   * `columns` (columns the file lacks read as null; partition values from the add action).
   */
  private async readPhysicalColumns(path: string, columns: readonly LakeColumn[] = this.lakeColumns()): Promise<{ numRows: number; columns: LakeValue[][] }> {
    const bytes = await this.storage.read(`${this.path}/${uriToPath(path)}`);
    if (!bytes) {
      throw new CdcError('DELTA_LOG_INVALID', `${this.description}: data file ${path} is in the log but missing`, {
        remedy: 'restore the file, or remove the table and copy it again with --resync',
      });
    }
    const partitions = this.partitionColumns;
    if (partitions.length === 0) return readParquetColumns(bytes, columns);
    // Partition columns are not in the file: their values come from the add action.
    const values = this.snapshot.files.get(path)?.partitionValues ?? {};
    const stored = columns.filter((c) => !partitions.includes(c.name));
    const read = await readParquetColumns(bytes, stored);
    let j = 0;
    return {
      numRows: read.numRows,
      columns: columns.map((c) => (partitions.includes(c.name) ? new Array<LakeValue>(read.numRows).fill(parsePartitionValue(c.type, values[c.name])) : read.columns[j++]!)),
    };
  }

  /** The row positions a live file's deletion vector deletes, ascending (empty without one). */
  private async deletedPositions(add: AddAction | undefined): Promise<number[]> {
    if (!add?.deletionVector) return [];
    return readVector(
      add.deletionVector,
      async (path, absolute) => (absolute ? this.storage.read(path) : this.storage.read(`${this.path}/${path}`)),
      this.description,
    );
  }

  /** The live rows of a data file (its deletion vector applied), in {@link columns} order. */
  private async readRows(path: string, columns: readonly LakeColumn[] = this.lakeColumns()): Promise<LakeValue[][]> {
    const rows = await this.readPhysicalRows(path, columns);
    const deleted = await this.deletedPositions(this.snapshot.files.get(path));
    if (deleted.length === 0) return rows;
    const gone = new Set(deleted);
    return rows.filter((_row, i) => !gone.has(i));
  }

  /** Every row of the table's current version, in {@link columns} order (for small tables: status, tests). */
  async rows(): Promise<LakeValue[][]> {
    const out: LakeValue[][] = [];
    for (const path of this.snapshot.files.keys()) for (const row of await this.readRows(path)) out.push(row);
    return out;
  }

  /** The table's partition columns (from its metaData). */
  get partitionColumns(): readonly string[] {
    return this.snapshot.metaData?.partitionColumns ?? [];
  }

  /** Rows grouped by partition: the directory, the partitionValues, and the rows. */
  private byPartition(rows: readonly LakeValue[][]): { directory: string; values: Record<string, string | null>; rows: LakeValue[][] }[] {
    const partitions = this.partitionColumns;
    if (partitions.length === 0) return [{ directory: '', values: {}, rows: rows as LakeValue[][] }];
    const at = partitions.map((name) => this.columns.findIndex((c) => c.name === name));
    const groups = new Map<string, { directory: string; values: Record<string, string | null>; rows: LakeValue[][] }>();
    for (const row of rows) {
      const entries = partitions.map((name, k) => [name, serializePartitionValue(this.columns[at[k]!]!.lake.type, row[at[k]!] ?? null)] as [string, string | null]);
      const key = JSON.stringify(entries);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { directory: partitionDirectory(entries), values: Object.fromEntries(entries), rows: [] }));
      group.rows.push(row);
    }
    return [...groups.values()];
  }

  /**
   * Loads the key → row index of the table's live files (when none is kept): each file's keys
   * from its sidecar (key-sidecar.ts), or from the file when the sidecar is missing, unusable or
   * distrusted; rows its deletion vector deletes are left out.
   */
  private async ensureIndex(): Promise<KeyIndex> {
    const keyColumns = this.keyPositions().map((i) => this.columns[i]!.lake);
    // A new key (a column added to a table without a primary key, another primary key) makes
    // other key texts: the index is loaded again for it.
    const signature = this.keySignature();
    if (this.index && (this.indexColumns ?? signature) === signature) {
      this.indexColumns = signature;
      return this.index;
    }
    const started = performance.now();
    const { index, fromSidecars } = await loadKeyIndex({
      storage: this.storage,
      table: this.path,
      files: [...this.snapshot.files.values()].map((add) => ({ path: add.path, rows: physicalRows(add) })),
      columns: keyColumns.map((c) => c.name),
      distrusted: this.distrusted,
      readDataFile: async (path) => {
        const read = await this.readPhysicalColumns(path, keyColumns);
        return keysOfColumns(read.columns, read.numRows);
      },
      deletedPositions: (path) => this.deletedPositions(this.snapshot.files.get(path)),
      log: this.log,
    });
    this.index = index;
    this.indexColumns = signature;
    this.log.debug({ table: this.description, keys: index.size, files: index.fileCount, fromSidecars, ms: Math.round(performance.now() - started) }, 'delta: key index loaded');
    return index;
  }

  /** The key's column names, as one string (see {@link indexColumns}). */
  private keySignature(): string {
    return JSON.stringify(this.keyPositions().map((i) => this.columns[i]!.name));
  }

  /** Writes rows as data files of at most `maxRowsPerFile` rows; returns their add actions and keys. */
  private async writeDataFiles(rows: LakeValue[][], dataChange: boolean): Promise<{ adds: AddAction[]; keys: Map<string, string[]> }> {
    const adds: AddAction[] = [];
    const keys = new Map<string, string[]>();
    const keyAt = this.keyPositions();
    const keyNames = keyAt.map((i) => this.columns[i]!.name);
    const partitions = this.partitionColumns;
    // Partition columns live in the log, dropped ones nowhere.
    const stored = this.columns.flatMap((c, i) => (partitions.includes(c.name) || this.dropped.has(c) ? [] : [{ column: c.lake, i }]));
    const columns = stored.map((c) => c.column);
    const whole = stored.length === this.columns.length;
    for (const group of this.byPartition(rows)) {
      for (let start = 0; start < group.rows.length; start += this.options.maxRowsPerFile) {
        const part = group.rows.slice(start, start + this.options.maxRowsPerFile);
        const file = writeParquet(columns, whole ? part : part.map((r) => stored.map((c) => r[c.i]!)));
        const name = `${group.directory === '' ? '' : `${group.directory}/`}part-00000-${randomUUID()}-c000.snappy.parquet`;
        await this.storage.write(`${this.path}/${name}`, file.bytes);
        const path = pathToUri(name);
        adds.push({
          path,
          partitionValues: group.values,
          size: file.bytes.length,
          modificationTime: Date.now(),
          dataChange,
          stats: deltaStatsJson(columns, file.numRecords, file.stats),
        });
        const fileKeys = part.map((r) => keyText(keyAt.map((i) => r[i])));
        keys.set(path, fileKeys);
        await writeKeySidecar({ storage: this.storage, table: this.path, dataFile: name, columns: keyNames, log: this.log }, fileKeys);
      }
    }
    return { adds, keys };
  }

  /** Writes `_change_data/` files (one per partition); returns their cdc actions. */
  private async writeChangeFiles(rows: LakeValue[][]): Promise<DeltaAction[]> {
    const partitions = this.partitionColumns;
    const stored = [...this.columns.flatMap((c, i) => (partitions.includes(c.name) || this.dropped.has(c) ? [] : [{ column: c.lake, i }])), { column: CHANGE_TYPE, i: this.columns.length }];
    const whole = stored.length === this.columns.length + 1;
    const actions: DeltaAction[] = [];
    for (const group of this.byPartition(rows)) {
      const file = writeParquet(
        stored.map((c) => c.column),
        whole ? group.rows : group.rows.map((r) => stored.map((c) => r[c.i]!)),
      );
      // Flat under _change_data/: the partition values are in the action (a reader takes them from
      // there), and delta-rs 1.6 does not URI-decode cdc paths, so an escaped directory would break it.
      const name = `_change_data/cdc-00000-${randomUUID()}.c000.snappy.parquet`;
      await this.storage.write(`${this.path}/${name}`, file.bytes);
      actions.push({ cdc: { path: pathToUri(name), partitionValues: group.values, size: file.bytes.length, dataChange: false } });
    }
    return actions;
  }

  /** A pending row with every value stored: UNCHANGED from `old` (or null without one), short rows padded. */
  private complete(row: readonly PendingValue[], old: readonly LakeValue[] | undefined): LakeValue[] {
    const out: LakeValue[] = new Array<LakeValue>(this.columns.length);
    for (let i = 0; i < this.columns.length; i++) {
      const v = i < row.length ? row[i] : old ? old[i] : this.missingValue(this.columns[i]!);
      out[i] = v === UNCHANGED ? (old ? (old[i] ?? null) : null) : (v ?? null);
    }
    if (this.softDelete) out[this.columns.findIndex((c) => c.name === SOFT_DELETE_COLUMN)] = false;
    return out;
  }

  /**
   * Writes the data and change files of a batch's changes and returns the log entry to commit.
   * Only files holding changed keys are read and rewritten. When the key index disagrees with a
   * data file (a damaged sidecar), that file's keys are read from the file and the batch is
   * planned again (files the first attempt wrote are never committed; vacuum deletes them).
   * @throws {CdcError} from storage and Parquet (a file in the log but missing: DELTA_LOG_INVALID);
   *   DELTA_KEY_INDEX_INVALID when the keys read from a data file disagree with it still.
   */
  async planMerge(changes: TableChanges): Promise<PlannedCommit> {
    for (;;) {
      try {
        return await this.planMergeOnce(changes);
      } catch (error) {
        if (!(error instanceof KeyIndexMismatch)) throw error;
        if (this.distrusted.has(error.file)) {
          throw new CdcError('DELTA_KEY_INDEX_INVALID', `${this.description}: ${error.message}, also after reading its keys from the file`, {
            cause: error,
            remedy: 'the data file changed after it was committed: restore it, or remove the table and copy it again with --resync',
          });
        }
        this.log.warn({ table: this.description, file: error.file, reason: error.message }, 'delta: the key index disagrees with a data file; reading its keys from the file and planning the batch again');
        this.distrusted.add(error.file);
        this.index = undefined;
      }
    }
  }

  /** {@link planMerge} with the index as loaded (throws KeyIndexMismatch when it disagrees with a file). */
  private async planMergeOnce(changes: TableChanges): Promise<PlannedCommit> {
    const counts: MergeCounts = { inserted: 0, updated: 0, deleted: 0, copied: 0, filesAdded: 0, filesRemoved: 0 };
    const newColumns = this.newColumns();
    const actions: DeltaAction[] = [...this.schemaUpdate()];
    // Columns this commit adds with a value for existing rows (ADD COLUMN … DEFAULT on the
    // source): every stored row gets it, so every file is rewritten (without a data change).
    const defaults: [number, LakeValue][] = [];
    for (const i of newColumns) {
      const value = this.missingValue(this.columns[i]!);
      if (value !== null) defaults.push([i, value]);
    }
    const withDefaults = (rows: LakeValue[][]): LakeValue[][] => {
      for (const row of rows) for (const [i, v] of defaults) if (row[i] === null || row[i] === undefined) row[i] = v;
      return rows;
    };
    const removes: DeltaAction[] = [];
    const now = Date.now();
    const removeFile = (add: AddAction, dataChange: boolean, deletionVector = add.deletionVector) => {
      removes.push({ remove: removeOf({ ...add, deletionVector }, dataChange, now) });
      counts.filesRemoved++;
    };
    /** Files that stay with a new deletion vector, and the positions of the rows each newly deletes. */
    const vectorAdds: AddAction[] = [];
    const vectorDeletes = new Map<string, number[]>();
    const keyAt = this.keyPositions();
    const changeRows: LakeValue[][] = [];
    // Rows of rewritten files go out in files of at most maxRowsPerFile rows as they come, so
    // memory holds one file's rows and the batch, not every row the batch rewrites.
    let out: LakeValue[][] = [];
    const written = { adds: [] as AddAction[], keys: new Map<string, string[]>() };
    const flush = async (all: boolean) => {
      while (out.length >= this.options.maxRowsPerFile || (all && out.length > 0)) {
        const part = out.length > this.options.maxRowsPerFile ? out.slice(0, this.options.maxRowsPerFile) : out;
        out = part === out ? [] : out.slice(this.options.maxRowsPerFile);
        const w = await this.writeDataFiles(part, true);
        written.adds.push(...w.adds);
        for (const [file, keys] of w.keys) written.keys.set(file, keys);
      }
    };
    const inserts: LakeValue[][] = [];
    let rewrote = false;

    // Readers derive a commit's changes from its removes only when it has no change files, and
    // delta-rs 1.6 then reads a removed file's deletion vector as the rows deleted: a TRUNCATE
    // of a table with vectors writes its deletes out (file by file, so memory holds one file).
    const truncateFeed = changes.truncated && this.options.changeDataFeed && [...this.snapshot.files.values()].some((f) => f.deletionVector);
    if (changes.truncated) {
      for (const add of [...this.snapshot.files.values()]) {
        if (truncateFeed) actions.push(...(await this.writeChangeFiles((await this.readRows(add.path)).map((row) => [...row, 'delete']))));
        removeFile(add, true);
        rewrote = true;
      }
    }
    const lookups = changes.keyed.size > 0 || [...changes.rows.values()].some((rc) => rc.count < 0);
    const index = changes.truncated || !lookups ? new KeyIndex() : await this.ensureIndex();
    // Files to rewrite, with the rows they lose or change: physical position → key.
    const touched = new Map<string, Map<number, string>>();
    const touch = (key: string, n: number) => {
      let left = n;
      index.forEachRow(key, (file, position) => {
        let rows = touched.get(file);
        if (!rows) touched.set(file, (rows = new Map<number, string>()));
        if (rows.has(position)) return true;
        rows.set(position, key);
        return --left > 0;
      });
    };
    if (!this.keyless) {
      for (const [key, change] of changes.keyed) {
        touch(key, 1);
        if (change.kind === 'upsert' && change.fillFrom !== undefined) touch(change.fillFrom, 1);
      }
    } else {
      for (const [key, rc] of changes.rows) if (rc.count < 0) touch(key, -rc.count);
    }

    const oldRows = new Map<string, LakeValue[]>();
    const applied = new Set<string>();
    const vectors = this.deletionVectorsEnabled;
    const flagAt = this.softDelete ? this.columns.findIndex((c) => c.name === SOFT_DELETE_COLUMN) : -1;
    for (const [path, changed] of touched) {
      const add = this.snapshot.files.get(path);
      if (!add) continue;
      // Columnar: only the rows a batch changes (or a rewrite keeps) are built as rows.
      const read = await this.readPhysicalColumns(path);
      const physicalCount = read.numRows;
      const rowAt = (position: number): LakeValue[] => {
        const row = new Array<LakeValue>(read.columns.length);
        for (let c = 0; c < read.columns.length; c++) row[c] = read.columns[c]![position]!;
        for (const [i, v] of defaults) if (row[i] === null || row[i] === undefined) row[i] = v;
        return row;
      };
      const keyColumns = keyAt.map((i) => read.columns[i]!);
      const keyAtPosition = keyColumns.length === 1 ? (p: number) => keyText([keyColumns[0]![p]]) : (p: number) => keyText(keyColumns.map((c) => c[p]));
      const wasDeleted = await this.deletedPositions(add);
      const gone = new Set(wasDeleted);
      // The index names rows by position: the file must agree on its row count and on each key.
      const indexedRows = index.physicalRows(path);
      if (indexedRows !== physicalCount) throw new KeyIndexMismatch(path, `it has ${physicalCount} rows, the index ${indexedRows ?? 'none'}`);
      for (const [position, key] of changed) {
        if (gone.has(position)) throw new KeyIndexMismatch(path, `row ${position} is deleted`);
        if (keyAtPosition(position) !== key) throw new KeyIndexMismatch(path, `row ${position} holds another key`);
      }
      // With deletion vectors a file keeps its rows and gains the positions this batch changes,
      // unless it would then hold more deleted rows than live ones: then it is rewritten.
      const useVector = vectors && defaults.length === 0 && (wasDeleted.length + changed.size) * 2 <= physicalCount;
      const kept: LakeValue[][] = [];
      const nowDeleted: number[] = [];
      let replaced = 0;
      /** The row at `position` leaves the file; `next` (if any) is its new version. */
      const replace = (position: number, next: LakeValue[] | undefined) => {
        if (useVector) {
          nowDeleted.push(position);
          if (next) out.push(next);
        } else if (next) {
          kept.push(next);
          replaced++;
        }
      };
      /** The row at `position` holds `key`, which the batch changes (or reads, for a moved key). */
      const visit = (position: number, key: string) => {
        const row = rowAt(position);
        if (this.keyless) {
          changeRows.push([...row, 'delete']);
          counts.deleted++;
          replace(position, undefined);
          return;
        }
        oldRows.set(key, row);
        const change = changes.keyed.get(key);
        if (!change || change.kind === 'delete') {
          if (change && flagAt >= 0) {
            if (row[flagAt] === true) {
              if (!useVector) kept.push(row);
            } else {
              const flagged = [...row];
              flagged[flagAt] = true;
              changeRows.push([...row, 'update_preimage'], [...flagged, 'update_postimage']);
              replace(position, flagged);
              counts.deleted++;
            }
          } else if (change) {
            changeRows.push([...row, 'delete']);
            counts.deleted++;
            replace(position, undefined);
          } else if (!useVector) {
            kept.push(row); // touched only as the source of a moved key's unchanged values
          }
          return;
        }
        const next = this.complete(change.row, row);
        changeRows.push([...row, 'update_preimage'], [...next, 'update_postimage']);
        replace(position, next);
        applied.add(key);
        counts.updated++;
      };
      if (useVector) {
        // Only the changed rows are built; positions ascending, as the vector needs them.
        for (const position of [...changed.keys()].sort((a, b) => a - b)) visit(position, changed.get(position)!);
      } else {
        // A rewrite keeps the file's other live rows, in their order.
        for (let position = 0; position < physicalCount; position++) {
          if (gone.has(position)) continue;
          const key = changed.get(position);
          if (key === undefined) kept.push(rowAt(position));
          else visit(position, key);
        }
      }
      rewrote = true;
      if (useVector) {
        if (nowDeleted.length === 0) continue;
        const positions = unionPositions(wasDeleted, nowDeleted);
        if (positions.length >= physicalCount) {
          removeFile(add, true, add.deletionVector);
          continue;
        }
        const vector = vectorFile(positions);
        await this.storage.write(`${this.path}/${vector.path}`, vector.bytes);
        removeFile(add, true, add.deletionVector);
        const stats = add.stats !== undefined ? wideBounds(add.stats) : JSON.stringify({ numRecords: physicalCount, tightBounds: false });
        vectorAdds.push({ ...add, dataChange: true, stats, deletionVector: vector.descriptor });
        vectorDeletes.set(add.path, nowDeleted);
        counts.filesRemoved--; // the file stays, with another vector
        await flush(false);
        continue;
      }
      removeFile(add, true, add.deletionVector);
      counts.copied += kept.length - replaced;
      for (const row of kept) out.push(row);
      await flush(false);
    }
    const rewrittenKeys = new Map<string, string[]>();
    if (defaults.length > 0 && !changes.truncated) {
      for (const add of [...this.snapshot.files.values()]) {
        if (touched.has(add.path)) continue;
        const rewritten = await this.writeDataFiles(withDefaults(await this.readRows(add.path)), false);
        removeFile(add, false);
        actions.push(...rewritten.adds.map((a) => ({ add: a })));
        for (const [file, keys] of rewritten.keys) rewrittenKeys.set(file, keys);
      }
    }
    if (!this.keyless) {
      for (const [key, change] of changes.keyed) {
        if (change.kind !== 'upsert' || applied.has(key)) continue;
        const old = change.fillFrom !== undefined ? oldRows.get(change.fillFrom) : undefined;
        if (change.row.includes(UNCHANGED) && !old) {
          this.log.warn({ table: this.description, key }, 'delta: an unchanged (TOASTed) value has no stored row to come from; stored as null');
        }
        inserts.push(this.complete(change.row, old));
      }
    } else {
      for (const rc of changes.rows.values()) for (let i = 0; i < rc.count; i++) inserts.push(rc.row);
    }
    counts.inserted = inserts.length;

    for (const row of inserts) out.push(row);
    await flush(true);
    counts.filesAdded = written.adds.length;
    actions.push(...removes, ...vectorAdds.map((add) => ({ add })), ...written.adds.map((add) => ({ add })));
    const needsChangeFiles = this.options.changeDataFeed && rewrote && (!changes.truncated || truncateFeed);
    if (needsChangeFiles) {
      for (const row of inserts) changeRows.push([...row, 'insert']);
      if (changeRows.length > 0) actions.push(...(await this.writeChangeFiles(changeRows)));
    }
    const operation = changes.truncated ? 'TRUNCATE' : rewrote ? 'MERGE' : 'WRITE';
    return { table: this.path, readVersion: this.snapshot.version, actions, counts, operation, keys: new Map([...written.keys, ...rewrittenKeys]), deletedRows: vectorDeletes };
  }

  /**
   * Commits a planned entry at the next version, with `extra` actions (txn, commitInfo). When
   * another writer took that version, the entry goes to the following one if that writer
   * removed none of the files the plan removes and changed no schema; otherwise the batch fails
   * with DELTA_CONCURRENT_WRITE (retryable: the pipeline plans it again).
   * @returns the version committed.
   */
  async commit(plan: PlannedCommit, extra: readonly DeltaAction[]): Promise<number> {
    const actions = [...extra, ...plan.actions];
    for (;;) {
      const version = this.snapshot.version + 1;
      const outcome = await commitVersion(this.storage, this.path, version, actions);
      if (outcome.committed) {
        this.adopt(version, actions, plan.keys, plan.deletedRows);
        await checkpointIfDue(this.storage, this.path, this.snapshot, { interval: this.options.checkpointInterval, log: this.log });
        return version;
      }
      const before = this.snapshot;
      const after = await readSnapshot(this.storage, this.path, before);
      // A removed file is lost when it left the table or got another deletion vector meanwhile.
      const lost = plan.actions.some((a) => {
        if (!('remove' in a)) return false;
        const live = after.files.get(a.remove.path);
        return !live || vectorUniqueId(live.deletionVector) !== vectorUniqueId(a.remove.deletionVector);
      });
      const schemaChanged = after.metaData !== before.metaData || after.protocol !== before.protocol;
      this.snapshot = after;
      this.index = undefined;
      if (lost || schemaChanged) {
        throw new CdcError('DELTA_CONCURRENT_WRITE', `${this.description}: another writer committed version ${version} and ${lost ? 'removed files this batch rewrites' : 'changed the schema'}`, {
          remedy: 'the batch is planned again against the new version; if this repeats, stop the other writer',
          retryable: true,
        });
      }
      this.log.info({ table: this.description, version }, 'delta: another writer committed this version first; committing at the next');
    }
  }

  /** Applies a committed entry to the snapshot and the key index. */
  private adopt(version: number, actions: readonly DeltaAction[], keys?: ReadonlyMap<string, readonly string[]>, deletedRows?: ReadonlyMap<string, readonly number[]>): void {
    this.snapshot = applyActions(this.snapshot, version, actions);
    if (!this.index) return;
    for (const a of actions) {
      if (!('remove' in a)) continue;
      const lost = deletedRows?.get(a.remove.path);
      // A file that stays with a new deletion vector loses only the rows it deletes.
      if (lost) this.index.deleteRows(a.remove.path, lost);
      else this.index.removeFile(a.remove.path);
    }
    // The new files' keys are made of the current key columns (a new table's index starts here).
    if (keys && keys.size > 0) this.indexColumns ??= this.keySignature();
    for (const [file, fileKeys] of keys ?? []) if (this.snapshot.files.has(file)) this.index.addFile(file, fileKeys);
  }

  /**
   * Appends rows (a snapshot chunk): data files only, committed as a blind append (retried at
   * the next version whenever another writer was first).
   * @returns the version committed.
   */
  async append(rows: LakeValue[][], extra: readonly DeltaAction[]): Promise<number> {
    const written = await this.writeDataFiles(rows, true);
    const actions: DeltaAction[] = [...extra, ...written.adds.map((add) => ({ add }))];
    for (;;) {
      const version = this.snapshot.version + 1;
      const outcome = await commitVersion(this.storage, this.path, version, actions);
      if (outcome.committed) {
        this.adopt(version, actions, written.keys);
        await checkpointIfDue(this.storage, this.path, this.snapshot, { interval: this.options.checkpointInterval, log: this.log });
        return version;
      }
      this.snapshot = await readSnapshot(this.storage, this.path, this.snapshot);
      this.index = undefined;
    }
  }

  /** Removes every data file (a fresh copy starts): one commit, or none when the table is empty. */
  async removeAll(extra: readonly DeltaAction[]): Promise<void> {
    for (;;) {
      if (this.snapshot.files.size === 0) return;
      const now = Date.now();
      const actions: DeltaAction[] = [...extra];
      // With deletion vectors the deletes are written out (see planMerge, TRUNCATE).
      const feed = this.options.changeDataFeed && [...this.snapshot.files.values()].some((f) => f.deletionVector);
      for (const add of [...this.snapshot.files.values()]) {
        if (feed) actions.push(...(await this.writeChangeFiles((await this.readRows(add.path)).map((row) => [...row, 'delete']))));
        actions.push({ remove: removeOf(add, true, now) });
      }
      const version = this.snapshot.version + 1;
      const outcome = await commitVersion(this.storage, this.path, version, actions);
      if (outcome.committed) {
        this.adopt(version, actions);
        await checkpointIfDue(this.storage, this.path, this.snapshot, { interval: this.options.checkpointInterval, log: this.log });
        return;
      }
      this.snapshot = await readSnapshot(this.storage, this.path, this.snapshot);
      this.index = undefined;
    }
  }

  /**
   * Commits the source's new columns when the table lacks some (columns added while no pipeline
   * ran), with the value existing rows have on the source.
   * @returns true when a commit was made.
   */
  async addMissingColumns(): Promise<boolean> {
    const added = this.newColumns();
    if (added.length === 0) return false;
    const plan = await this.planMerge({ truncated: false, keyed: new Map(), rows: new Map() });
    await this.commit(plan, [{ commitInfo: { timestamp: Date.now(), operation: 'ADD COLUMNS', engineInfo: 'cdc-merge', operationParameters: { columns: JSON.stringify(added.map((i) => this.columns[i]!.name)) } } }]);
    return true;
  }

  /**
   * Opens an existing table from its Delta schema alone, for maintenance (no source): its
   * columns are typed back from the schema; it has no key.
   * @throws {CdcError} DELTA_LOG_INVALID when there is no table at `path`.
   */
  static async openExisting(storage: LakeStorage, path: string, options: DeltaTableOptions, log: Logger): Promise<DeltaTable> {
    const snapshot = await readSnapshot(storage, path);
    if (!snapshot.metaData) throw new CdcError('DELTA_LOG_INVALID', `${storage.description}/${path} holds no Delta table`, { remedy: 'name a table that exists' });
    const fields = (JSON.parse(snapshot.metaData.schemaString) as { fields: { name: string; type: DeltaType }[] }).fields;
    const [schema, name] = path.split('/').map((p) => decodeURIComponent(p)) as [string, string];
    const source: TableSchema = {
      id: { schema, name },
      columns: fields.map((f) => {
        const type = postgresTypeOfDelta(f.type);
        return { name: f.name, type, logicalType: logicalTypeOf(type), nullable: true, toastable: false };
      }),
      primaryKey: [],
    };
    const table = new DeltaTable(storage, path, source, snapshot, options, log);
    table.adoptStoredSchema();
    return table;
  }

  /**
   * The table's data files to compact: those with fewer than half of `maxRowsPerFile` live rows
   * (by their stats and deletion vectors), and those whose deletion vector deletes a fifth of
   * their rows or more (compaction purges it).
   */
  private smallFileActions(): AddAction[] {
    return [...this.snapshot.files.values()].filter((add) => {
      const rows = physicalRows(add);
      if (rows === undefined) return false;
      const deleted = deletedRows(add);
      return rows - deleted < this.options.maxRowsPerFile / 2 || deleted * 5 >= rows;
    });
  }

  /** How many of the table's data files are small (see {@link compact}). */
  smallFiles(): number {
    return this.smallFileActions().length;
  }

  /**
   * Rewrites the table's small data files (fewer than half of `maxRowsPerFile` rows) into files
   * of up to `maxRowsPerFile` rows, within each partition, as one commit whose actions change no
   * data (`dataChange: false`): readers and the change feed see the same rows.
   * @returns the version committed, or undefined when fewer than two files were small.
   * @throws {CdcError} DELTA_CONCURRENT_WRITE when a writer removed one of the files meanwhile (run it again).
   */
  async compact(): Promise<number | undefined> {
    const small = this.smallFileActions();
    const byPartition = new Map<string, AddAction[]>();
    for (const add of small) {
      const key = JSON.stringify(add.partitionValues);
      byPartition.set(key, [...(byPartition.get(key) ?? []), add]);
    }
    const actions: DeltaAction[] = [];
    const keys = new Map<string, string[]>();
    const now = Date.now();
    for (const files of byPartition.values()) {
      if (files.length < 2) continue;
      let rows: LakeValue[][] = [];
      const flush = async (all: boolean) => {
        while (rows.length >= this.options.maxRowsPerFile || (all && rows.length > 0)) {
          const part = rows.slice(0, this.options.maxRowsPerFile);
          rows = rows.slice(part.length);
          const written = await this.writeDataFiles(part, false);
          actions.push(...written.adds.map((add) => ({ add })));
          for (const [file, k] of written.keys) keys.set(file, k);
        }
      };
      for (const add of files) {
        for (const row of await this.readRows(add.path)) rows.push(row);
        actions.push({ remove: removeOf(add, false, now) });
        await flush(false);
      }
      await flush(true);
    }
    if (actions.length === 0) return undefined;
    const removed = actions.filter((a) => 'remove' in a).length;
    const added = actions.length - removed;
    const plan: PlannedCommit = { table: this.path, readVersion: this.snapshot.version, actions, counts: { inserted: 0, updated: 0, deleted: 0, copied: 0, filesAdded: added, filesRemoved: removed }, operation: 'OPTIMIZE', keys };
    return this.commit(plan, [{ commitInfo: { timestamp: Date.now(), operation: 'OPTIMIZE', engineInfo: 'cdc-merge', isBlindAppend: false, operationMetrics: { numRemovedFiles: removed, numAddedFiles: added } } }]);
  }

  /**
   * Deletes files under the table that its current version does not reference and that are
   * older than `retentionMs` (ms): data files of earlier versions, change data files, abandoned
   * writes. The log (`_delta_log/`) is kept, and so are the key sidecars of live files; a
   * sidecar goes with its data file (or once it is older than the retention itself).
   * @returns the files (and their bytes) deleted, or that would be with `dryRun`.
   */
  async vacuum(retentionMs: number, dryRun: boolean): Promise<{ files: number; bytes: number }> {
    await this.refresh();
    const live = new Set([...this.snapshot.files.keys()].map((p) => uriToPath(p)));
    // Deletion vector files of live files are referenced too.
    for (const add of this.snapshot.files.values()) if (add.deletionVector?.storageType === 'u') live.add(relativeVectorPath(add.deletionVector));
    // So are the key sidecars of live files.
    for (const add of this.snapshot.files.values()) live.add(keySidecarPath(uriToPath(add.path)));
    const cutoff = Date.now() - retentionMs;
    let files = 0;
    let bytes = 0;
    const objects = await this.storage.list(`${this.path}/`);
    const relativeOf = (path: string) => path.slice(this.path.length + 1);
    const gone = new Set(
      objects
        .map((o) => ({ relative: relativeOf(o.path), modifiedMs: o.modifiedMs }))
        .filter((o) => !o.relative.startsWith('_delta_log/') && !live.has(o.relative) && o.modifiedMs <= cutoff)
        .map((o) => o.relative),
    );
    // A sidecar written after its data file (when the index was loaded) goes with the file.
    for (const object of objects) {
      const relative = relativeOf(object.path);
      const dataFile = dataFileOfSidecar(relative);
      if (dataFile !== undefined && !live.has(relative) && gone.has(dataFile)) gone.add(relative);
    }
    for (const object of objects) {
      const relative = relativeOf(object.path);
      if (!gone.has(relative)) continue;
      files++;
      bytes += object.size;
      if (!dryRun) await this.storage.delete(object.path);
    }
    return { files, bytes };
  }

  /** Reads versions other writers committed since this table's snapshot. */
  async refresh(): Promise<void> {
    const before = this.snapshot.version;
    this.snapshot = await readSnapshot(this.storage, this.path, this.snapshot);
    if (this.snapshot.version !== before) this.index = undefined;
  }

  /** Commits an entry planned by an earlier process (the roll-forward of an unfinished batch). */
  async commitPlanned(plan: PlannedCommit, extra: readonly DeltaAction[]): Promise<number> {
    this.index = undefined;
    return this.commit(plan, extra);
  }
}
