/**
 * The Parquet form of a classic Delta checkpoint: one row per action, each action kind a nullable
 * struct column (`txn`, `add`, `remove`, `metaData`, `protocol`), string maps as Parquet MAPs
 * and string arrays as three-level LISTs, 64-bit fields as INT64 (PROTOCOL.md "Checkpoint
 * Schema"). Written through hyparquet-writer with an explicit nested schema, read back through
 * hyparquet (any writer's checkpoint: columns this module does not know are ignored, columns it
 * knows but the file lacks read as null).
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md#checkpoint-schema
 */
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import type { DeletionVectorDescriptor } from './deletion-vector.js';
import type { AddAction, DeltaAction, MetaDataAction, ProtocolAction, RemoveAction, TxnAction } from './delta-actions.js';

type Field = SchemaElement[];

const string = (name: string): Field => [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }];
const long = (name: string): Field => [{ name, type: 'INT64', repetition_type: 'OPTIONAL' }];
const int = (name: string): Field => [{ name, type: 'INT32', repetition_type: 'OPTIONAL' }];
const bool = (name: string): Field => [{ name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' }];
/** map<string,string>: keys required, values nullable (a null partition value). */
const stringMap = (name: string): Field => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
  { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
  { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
];
/** array<string> in the three-level LIST form. */
const stringList = (name: string): Field => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
];
const struct = (name: string, fields: Field[]): Field => [{ name, repetition_type: 'OPTIONAL', num_children: fields.length }, ...fields.flat()];
/** The deletion vector descriptor struct ("Deletion Vector Descriptor Schema"). */
const vector = (name: string): Field => struct(name, [string('storageType'), string('pathOrInlineDv'), int('offset'), int('sizeInBytes'), long('cardinality')]);

/**
 * The checkpoint's columns. `readerFeatures` / `writerFeatures` exist only when the protocol
 * uses them (reader 3, writer 7), where the protocol requires them non-null; other tables'
 * checkpoints leave them out, as the protocol allows.
 */
function checkpointSchema(protocol: ProtocolAction): SchemaElement[] {
  const columns: Field[] = [
    struct('txn', [string('appId'), long('version'), long('lastUpdated')]),
    struct('add', [string('path'), stringMap('partitionValues'), long('size'), long('modificationTime'), bool('dataChange'), string('stats'), stringMap('tags'), vector('deletionVector')]),
    // Tombstones carry no stats or tags in a checkpoint ("Checkpoints").
    struct('remove', [string('path'), long('deletionTimestamp'), bool('dataChange'), bool('extendedFileMetadata'), stringMap('partitionValues'), long('size'), vector('deletionVector')]),
    struct('metaData', [
      string('id'),
      string('name'),
      string('description'),
      struct('format', [string('provider'), stringMap('options')]),
      string('schemaString'),
      stringList('partitionColumns'),
      long('createdTime'),
      stringMap('configuration'),
    ]),
    struct('protocol', [
      int('minReaderVersion'),
      int('minWriterVersion'),
      ...(protocol.minReaderVersion >= 3 ? [stringList('readerFeatures')] : []),
      ...(protocol.minWriterVersion >= 7 ? [stringList('writerFeatures')] : []),
    ]),
  ];
  return [{ name: 'root', num_children: columns.length }, ...columns.flat()];
}

const COLUMNS = ['txn', 'add', 'remove', 'metaData', 'protocol'] as const;
type Column = (typeof COLUMNS)[number];

const big = (n: number | undefined): bigint | null => (n === undefined ? null : BigInt(n));

/** The struct value of one action in its column (int64 fields as bigint, absent fields null). */
function structOf(action: DeltaAction): [Column, Record<string, unknown>] | undefined {
  if ('txn' in action) {
    const t = action.txn;
    return ['txn', { appId: t.appId, version: big(t.version), lastUpdated: big(t.lastUpdated) }];
  }
  if ('add' in action) {
    const a = action.add;
    return ['add', { path: a.path, partitionValues: a.partitionValues, size: big(a.size), modificationTime: big(a.modificationTime), dataChange: a.dataChange, stats: a.stats ?? null, tags: null, deletionVector: vectorStruct(a.deletionVector) }];
  }
  if ('remove' in action) {
    const r = action.remove;
    return ['remove', { path: r.path, deletionTimestamp: big(r.deletionTimestamp), dataChange: r.dataChange, extendedFileMetadata: r.extendedFileMetadata, partitionValues: r.partitionValues, size: big(r.size), deletionVector: vectorStruct(r.deletionVector) }];
  }
  if ('metaData' in action) {
    const m = action.metaData;
    return [
      'metaData',
      {
        id: m.id,
        name: null,
        description: null,
        format: { provider: m.format.provider, options: m.format.options },
        schemaString: m.schemaString,
        partitionColumns: m.partitionColumns,
        createdTime: big(m.createdTime),
        configuration: m.configuration,
      },
    ];
  }
  if ('protocol' in action) {
    const p = action.protocol;
    return ['protocol', { minReaderVersion: p.minReaderVersion, minWriterVersion: p.minWriterVersion, readerFeatures: p.readerFeatures ?? null, writerFeatures: p.writerFeatures ?? null }];
  }
  return undefined; // commitInfo and cdc never go into a checkpoint
}

/**
 * The Parquet bytes of a checkpoint holding `actions` (one row each; commitInfo and cdc actions
 * are left out). `protocol` decides whether the feature lists are columns.
 */
export function encodeCheckpoint(actions: readonly DeltaAction[], protocol: ProtocolAction): Uint8Array {
  const data: Record<Column, unknown[]> = { txn: [], add: [], remove: [], metaData: [], protocol: [] };
  for (const action of actions) {
    const entry = structOf(action);
    if (!entry) continue;
    for (const column of COLUMNS) data[column].push(column === entry[0] ? entry[1] : null);
  }
  const buffer = parquetWriteBuffer({
    columnData: COLUMNS.map((name) => ({ name, data: data[name] })),
    schema: checkpointSchema(protocol),
    codec: 'SNAPPY',
    createdBy: 'cdc-merge (hyparquet-writer)',
  });
  return new Uint8Array(buffer);
}

const num = (v: unknown): number | undefined => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A map column's value as a plain object (hyparquet gives an object; null for a null map). */
function stringRecord(v: unknown): Record<string, string | null> {
  if (!v || typeof v !== 'object') return {};
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) out[key] = typeof value === 'string' ? value : null;
  return out;
}

function stringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** A descriptor as its checkpoint struct (null when the file has none). */
function vectorStruct(d: DeletionVectorDescriptor | undefined): Record<string, unknown> | null {
  if (!d) return null;
  return { storageType: d.storageType, pathOrInlineDv: d.pathOrInlineDv, offset: d.offset ?? null, sizeInBytes: d.sizeInBytes, cardinality: BigInt(d.cardinality) };
}

/** A descriptor from its checkpoint struct (undefined for null). */
function vectorOf(v: unknown): DeletionVectorDescriptor | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const storageType = text(o.storageType);
  if (storageType !== 'u' && storageType !== 'i' && storageType !== 'p') return undefined;
  return defined<DeletionVectorDescriptor>({ storageType, pathOrInlineDv: text(o.pathOrInlineDv)!, offset: num(o.offset), sizeInBytes: num(o.sizeInBytes)!, cardinality: num(o.cardinality)! });
}

/** Removes the keys whose value is undefined (the log's JSON form has no nulls for absent fields). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The actions of a checkpoint file, in file order.
 * @throws {Error} from hyparquet for bytes that are not a Parquet file.
 */
export async function decodeCheckpoint(bytes: Uint8Array): Promise<DeltaAction[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file, compressors })) as Record<string, Record<string, unknown> | null | undefined>[];
  const actions: DeltaAction[] = [];
  for (const row of rows) {
    const { txn, add, remove, metaData, protocol } = row;
    if (txn) {
      actions.push({ txn: defined<TxnAction>({ appId: text(txn.appId)!, version: num(txn.version)!, lastUpdated: num(txn.lastUpdated) }) });
    } else if (add) {
      actions.push({
        add: defined<AddAction>({
          path: text(add.path)!,
          partitionValues: stringRecord(add.partitionValues),
          size: num(add.size)!,
          modificationTime: num(add.modificationTime)!,
          dataChange: add.dataChange === true,
          stats: text(add.stats),
          deletionVector: vectorOf(add.deletionVector),
        }),
      });
    } else if (remove) {
      actions.push({
        remove: defined<RemoveAction>({
          path: text(remove.path)!,
          deletionTimestamp: num(remove.deletionTimestamp),
          dataChange: remove.dataChange === true,
          extendedFileMetadata: remove.extendedFileMetadata === true,
          partitionValues: stringRecord(remove.partitionValues),
          size: num(remove.size)!,
          deletionVector: vectorOf(remove.deletionVector),
        }),
      });
    } else if (metaData) {
      const format = (metaData.format ?? {}) as Record<string, unknown>;
      actions.push({
        metaData: defined<MetaDataAction>({
          id: text(metaData.id)!,
          format: { provider: 'parquet', options: stringRecord(format.options) as Record<string, string> },
          schemaString: text(metaData.schemaString)!,
          partitionColumns: stringArray(metaData.partitionColumns) ?? [],
          configuration: stringRecord(metaData.configuration) as Record<string, string>,
          createdTime: num(metaData.createdTime),
        }),
      });
    } else if (protocol) {
      actions.push({
        protocol: defined<ProtocolAction>({
          minReaderVersion: num(protocol.minReaderVersion)!,
          minWriterVersion: num(protocol.minWriterVersion)!,
          readerFeatures: stringArray(protocol.readerFeatures),
          writerFeatures: stringArray(protocol.writerFeatures),
        }),
      });
    }
  }
  return actions;
}
