/**
 * Initial copy of tables from an exported snapshot into the sink, chunk by chunk, several
 * chunks at a time. A table whose copy was interrupted is copied again from the start with a
 * fresh snapshot (its target rows are replaced), so "resumable" means: finished tables are
 * never copied twice, and the stream skips each table's changes that its snapshot already holds.
 */
import type { Logger } from 'pino';
import { pipeline as pipe } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { CdcError } from '../../errors.js';
import { PositionBase } from '../../events/position.js';
import type { TableSchema } from '../../schema/table.js';
import { formatTableId, tableKey } from '../../schema/table.js';
import type { SnapshotTarget } from '../../sinks/change-sink.js';
import type { ProgressReporter } from '../../observability/progress.js';
import type { SnapshotChunk, SnapshotSession } from './snapshot-reader.js';

/** What {@link copyTables} needs of the source. */
export interface SnapshotSource {
  /** Splits a table into chunks for parallel copy. */
  planChunks(table: TableSchema): Promise<SnapshotChunk[]>;
  /** Opens a session inside the exported snapshot. */
  openSnapshotSession(snapshotName: string): Promise<SnapshotSession>;
}

function interrupted(cause?: unknown): CdcError {
  return new CdcError('INTERRUPTED', 'interrupted during the initial snapshot: the tables not finished are copied again on the next start', {
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Options for {@link copyTables}. */
export interface CopyTablesOptions {
  readonly source: SnapshotSource;
  readonly sink: SnapshotTarget;
  readonly tables: readonly TableSchema[];
  readonly snapshotName: string;
  /** Position the snapshot saw (bytes of WAL): its rows get the row position `[snapshotLsn]`. */
  readonly snapshotLsn: bigint;
  /** The source identity of each table (its OID as text), by `tableKey`, recorded with its copy. */
  readonly sourceIdentities?: ReadonlyMap<string, string>;
  /** Chunks copied at once (default 2: one per core on a small machine). */
  readonly parallelism?: number;
  readonly log: Logger;
  readonly progress?: ProgressReporter;
  readonly signal?: AbortSignal;
}

/**
 * Copies `tables` as of the snapshot. Each table: begin (empties the target copy), chunks in
 * parallel, finish (marks it done at `snapshotLsn`).
 * @returns rows copied per table, by `formatTableId`.
 */
export async function copyTables(options: CopyTablesOptions): Promise<Map<string, number>> {
  const { source, sink, log } = options;
  if (sink.capabilities.snapshotFormat !== 'copy-text') {
    throw new CdcError('SINK_UNSUPPORTED', `the target loads snapshots as ${sink.capabilities.snapshotFormat}; the PostgreSQL source copies COPY text`, {
      remedy: 'use a target that reads COPY text, or a release whose PostgreSQL source writes typed rows',
    });
  }
  const position = new PositionBase([options.snapshotLsn]);
  const parallelism = Math.max(1, options.parallelism ?? 2);
  const totals = new Map<string, number>();
  const queue: SnapshotChunk[] = [];
  const remaining = new Map<TableSchema, number>();
  for (const table of options.tables) {
    await sink.beginTableSnapshot(table, position, options.sourceIdentities?.get(tableKey(table.id)));
    const chunks = await source.planChunks(table);
    remaining.set(table, chunks.length);
    totals.set(formatTableId(table.id), 0);
    queue.push(...chunks);
    log.info({ table: formatTableId(table.id), chunks: chunks.length }, 'snapshot: copying table');
  }
  options.progress?.start(options.tables.length);

  const worker = async () => {
    const session = await source.openSnapshotSession(options.snapshotName);
    try {
      for (let chunk = queue.shift(); chunk; chunk = queue.shift()) {
        if (options.signal?.aborted) throw interrupted();
        const name = formatTableId(chunk.table.id);
        const through = new PassThrough({ highWaterMark: 1 << 20 });
        const loading = sink.loadSnapshotChunk(chunk.table, through);
        try {
          // Aborting stops the chunk at once (the COPY and the load fail, nothing is marked done).
          await Promise.all([pipe(session.copyOut(chunk), through, options.signal ? { signal: options.signal } : {}), loading]);
        } catch (error) {
          if (options.signal?.aborted) throw interrupted(error);
          throw error;
        }
        const rows = await loading;
        totals.set(name, (totals.get(name) ?? 0) + rows);
        options.progress?.rows(rows);
        const left = remaining.get(chunk.table)! - 1;
        remaining.set(chunk.table, left);
        if (left === 0) {
          await sink.finishTableSnapshot(chunk.table, position, totals.get(name)!);
          options.progress?.tableDone(name);
          log.info({ table: name, rows: totals.get(name) }, 'snapshot: table done');
        }
      }
    } catch (error) {
      queue.length = 0; // the other workers stop after their current chunk
      throw error;
    } finally {
      await session.close();
    }
  };
  // Every worker ends (and closes its session) before a failure is reported.
  const results = await Promise.allSettled(Array.from({ length: Math.min(parallelism, Math.max(1, queue.length)) }, worker));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  options.progress?.stop();
  return totals;
}
