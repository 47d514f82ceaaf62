/**
 * Reading a table's rows as of a slot's exported snapshot, as COPY text.
 *
 * Every session imports the same snapshot (SET TRANSACTION SNAPSHOT), so several sessions can
 * copy chunks of one table in parallel and all of them see exactly the rows that precede the
 * slot's consistent point. A chunk is a range of heap blocks (`ctid >= '(a,0)' AND ctid <
 * '(b,0)'`), which PostgreSQL 14+ answers with a TID range scan, reading only those blocks.
 * @see https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION
 */
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Readable } from 'node:stream';
import type { TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteLiteral, quoteTable } from '../../sql/quote.js';
import { SESSION_OPTIONS } from '../../sql/connect.js';

/** A part of a table to copy: heap blocks `[startBlock, endBlock)`; `endBlock` null = to the end. */
export interface SnapshotChunk {
  readonly table: TableSchema;
  readonly startBlock: number;
  readonly endBlock: number | null;
  /** 0-based index of the chunk within its table, and how many chunks the table has. */
  readonly index: number;
  readonly count: number;
}

/** Blocks per chunk: 4096 blocks of 8 KiB = 32 MiB of heap, a few seconds of COPY each. */
export const DEFAULT_CHUNK_BLOCKS = 4096;

/**
 * Splits a table into block-range chunks. Partitioned tables and servers before 14 (no TID
 * range scan) get a single chunk.
 */
export async function planChunks(
  client: pg.ClientBase,
  table: TableSchema,
  options: { serverVersion: number; chunkBlocks?: number; partitioned: boolean },
): Promise<SnapshotChunk[]> {
  const chunkBlocks = options.chunkBlocks ?? DEFAULT_CHUNK_BLOCKS;
  if (options.partitioned || options.serverVersion < 140000) {
    return [{ table, startBlock: 0, endBlock: null, index: 0, count: 1 }];
  }
  const { rows } = await client.query<{ blocks: string }>(
    `SELECT (pg_relation_size(${quoteLiteral(quoteTable(table.id))}::regclass) / current_setting('block_size')::int)::text AS blocks`,
  );
  const blocks = Number(rows[0]!.blocks);
  const count = Math.max(1, Math.ceil(blocks / chunkBlocks));
  return Array.from({ length: count }, (_, i) => ({
    table,
    startBlock: i * chunkBlocks,
    endBlock: i === count - 1 ? null : (i + 1) * chunkBlocks,
    index: i,
    count,
  }));
}

/** The SELECT that reads one chunk's columns in source order. */
export function chunkQuery(chunk: SnapshotChunk): string {
  const columns = chunk.table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const where: string[] = [];
  if (chunk.count > 1 || chunk.startBlock > 0) where.push(`ctid >= '(${chunk.startBlock},0)'::tid`);
  if (chunk.endBlock !== null) where.push(`ctid < '(${chunk.endBlock},0)'::tid`);
  return `SELECT ${columns} FROM ${quoteTable(chunk.table.id)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
}

/** A source session inside the exported snapshot. */
export class SnapshotSession {
  private constructor(private readonly client: pg.Client) {}

  /**
   * Connects and imports `snapshotName` in a REPEATABLE READ, READ ONLY transaction.
   * @throws {Error} when the snapshot no longer exists (its replication connection moved on).
   */
  static async open(url: string, snapshotName: string): Promise<SnapshotSession> {
    const client = new pg.Client({ connectionString: url, application_name: 'cdc-merge snapshot', options: SESSION_OPTIONS });
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshotName)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return new SnapshotSession(client);
  }

  /** Streams one chunk as COPY text (tab-separated, `\N` for NULL, one row per line). */
  copyOut(chunk: SnapshotChunk): Readable {
    return this.client.query(copyTo(`COPY (${chunkQuery(chunk)}) TO STDOUT`));
  }

  /** Ends the transaction and the connection. */
  async close(): Promise<void> {
    await this.client.query('COMMIT').catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}

