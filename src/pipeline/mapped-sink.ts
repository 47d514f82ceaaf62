/**
 * A sink seen through a table mapping: the pipeline speaks source names, the wrapped sink
 * receives target names (schema map, naming rule, mapped types). Rows are positional, so only
 * table definitions and ids are translated.
 */
import type { TableId, TableSchema } from '../schema/table.js';
import { tableKey } from '../schema/table.js';
import type { ChangeSink, SinkBatch, TableSnapshotState } from '../sinks/change-sink.js';

/** How source tables map to target tables. */
export interface TableMapping {
  /** The target definition of a source definition (same columns, in the same order). */
  table(table: TableSchema): TableSchema;
  /** The target id of a source id. */
  id(id: TableId): TableId;
}

/**
 * Wraps `sink` so that every table and id passed to it is mapped by `mapping`, and ids coming
 * back (snapshot states) are mapped back to source ids.
 */
export function mappedSink(sink: ChangeSink, mapping: TableMapping): ChangeSink {
  const sourceIds = new Map<string, TableId>();
  const targetIds = new Map<string, TableId>();
  const id = (source: TableId): TableId => {
    const key = tableKey(source);
    let target = targetIds.get(key);
    if (!target) {
      target = mapping.id(source);
      targetIds.set(key, target);
      sourceIds.set(tableKey(target), source);
    }
    return target;
  };
  const table = (source: TableSchema): TableSchema => {
    id(source.id);
    return mapping.table(source);
  };
  const wrapBatch = (batch: SinkBatch): SinkBatch => ({
    relation: (t) => batch.relation(table(t)),
    row: (change) => batch.row({ ...change, table: id(change.table) }),
    truncate: (tables) => batch.truncate(tables.map(id)),
    deadLetter: (entry) => batch.deadLetter(entry),
    commit: (checkpoint, counts) => batch.commit(checkpoint, counts),
    rollback: () => batch.rollback(),
    get changes() {
      return batch.changes;
    },
  });
  return {
    capabilities: sink.capabilities,
    prepare: (tables) => sink.prepare(tables.map(table)),
    checkpoint: () => sink.checkpoint(),
    snapshotStates: async (): Promise<TableSnapshotState[]> =>
      (await sink.snapshotStates()).map((s) => ({ ...s, table: sourceIds.get(tableKey(s.table)) ?? s.table })),
    beginTableSnapshot: (t, position, sourceIdentity) => sink.beginTableSnapshot(table(t), position, sourceIdentity),
    loadSnapshotChunk: (t, rows) => sink.loadSnapshotChunk(table(t), rows),
    finishTableSnapshot: (t, position, rows) => sink.finishTableSnapshot(table(t), position, rows),
    forgetTableSnapshot: (t) => sink.forgetTableSnapshot(table(t)),
    reset: () => sink.reset(),
    openBatch: async (options) => wrapBatch(await sink.openBatch(options)),
    recordPositions: (positions) => sink.recordPositions(positions),
    recordError: (error) => sink.recordError(error),
    close: () => sink.close(),
  };
}
