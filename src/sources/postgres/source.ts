/**
 * The PostgreSQL source: checks the server, selects tables, keeps the publication and the slot,
 * takes snapshots and opens the change stream. The pipeline drives it; it knows nothing of sinks.
 */
import type pg from 'pg';
import { CdcError } from '../../errors.js';
import type { TablePattern } from '../../config/table-pattern.js';
import { matchesPattern } from '../../config/table-pattern.js';
import { parseLsn } from '../../events/position.js';
import { formatTableId, type TableSchema } from '../../schema/table.js';
import { connectPostgres } from '../../sql/connect.js';
import { describeTables, listTables, type SourceTable } from './catalog.js';
import { PgoutputChangeStream } from './change-stream.js';
import { ensurePublication, ensureReplicaIdentityFull, type PublicationChange } from './publication.js';
import { createSlotWithSnapshot, dropSlot, readSlot, type CreatedSlot, type SlotState } from './slot.js';
import { planChunks, SnapshotSession, type SnapshotChunk } from './snapshot-reader.js';

/** Options for {@link PostgresSource.open}. */
export interface PostgresSourceOptions {
  readonly url: string;
  /** Pipeline name: names the slot and the publication. `[a-z0-9_]`, at most 50 characters. */
  readonly name: string;
  /** Selected tables; empty = every table of every non-system schema. */
  readonly patterns: readonly TablePattern[];
}

/** An exported snapshot held open by its replication connection. */
export interface HeldSnapshot extends CreatedSlot {
  /** Releases the snapshot (and drops the slot if it was temporary). */
  release(): Promise<void>;
}

/**
 * Checks a pipeline name for use as slot and publication name.
 * @throws {CdcError} CONFIG_INVALID.
 */
export function validatePipelineName(name: string): void {
  if (!/^[a-z0-9_]{1,50}$/.test(name)) {
    throw new CdcError('CONFIG_INVALID', `--name ${JSON.stringify(name)} is not a valid pipeline name`, {
      remedy: 'use 1 to 50 lower-case letters, digits or underscores (it names the replication slot and the publication)',
    });
  }
}

/** A connected PostgreSQL source. */
export class PostgresSource {
  private tables: SourceTable[] = [];

  private constructor(
    private readonly options: PostgresSourceOptions,
    /** Ordinary connection: catalog, publication, heartbeats. */
    readonly client: pg.Client,
    /** `server_version_num`, e.g. 150020. */
    readonly serverVersion: number,
  ) {}

  /**
   * Connects and checks the server can do logical replication.
   * @throws {CdcError} WAL_LEVEL_NOT_LOGICAL, SERVER_TOO_OLD, and the connection errors of
   *   {@link connectPostgres}.
   */
  static async open(options: PostgresSourceOptions): Promise<PostgresSource> {
    validatePipelineName(options.name);
    const client = await connectPostgres(options.url, { role: 'source' });
    try {
      const { rows } = await client.query<{ wal_level: string; version: string }>(
        "SELECT current_setting('wal_level') AS wal_level, current_setting('server_version_num') AS version",
      );
      const { wal_level, version } = rows[0]!;
      if (Number(version) < 130000) {
        throw new CdcError('SERVER_TOO_OLD', `the source runs PostgreSQL ${version}; cdc-merge needs 13 or later`, {
          remedy: 'upgrade the source server (publish_via_partition_root needs 13)',
        });
      }
      if (wal_level !== 'logical') {
        throw new CdcError('WAL_LEVEL_NOT_LOGICAL', `the source has wal_level = ${wal_level}; logical replication needs wal_level = logical`, {
          remedy: "run ALTER SYSTEM SET wal_level = logical; on the source and restart it",
        });
      }
      return new PostgresSource(options, client, Number(version));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** Pipeline name (= slot and publication name). */
  get name(): string {
    return this.options.name;
  }

  /**
   * Finds the selected tables and describes them.
   * @throws {CdcError} TABLE_NOT_FOUND when a pattern without `*` matches no table; NO_TABLES
   *   when nothing is selected.
   */
  async selectTables(): Promise<TableSchema[]> {
    this.tables = await listTables(this.client, this.options.patterns);
    for (const p of this.options.patterns) {
      if (!p.text.includes('*') && !this.tables.some((t) => matchesPattern(p, t.id))) {
        throw new CdcError('TABLE_NOT_FOUND', `no table ${p.text} on the source`, {
          remedy: 'check the name (names are case-sensitive; quote mixed-case names: \'public."Invoice"\') and that it is not a partition (select its root)',
        });
      }
    }
    if (this.tables.length === 0) {
      const patterns = this.options.patterns.map((p) => p.text).join(', ');
      throw new CdcError('NO_TABLES', patterns ? `no table on the source matches --tables ${patterns}` : 'the source has no tables outside system schemas', {
        remedy: patterns
          ? 'widen --tables; names are case-sensitive and a * inside double quotes is a literal *'
          : 'create tables in a non-system schema first',
      });
    }
    return describeTables(this.client, this.tables);
  }

  /** True when the table is partitioned (captured through its root). */
  isPartitioned(table: TableSchema): boolean {
    return this.tables.some((t) => t.relkind === 'p' && t.id.schema === table.id.schema && t.id.name === table.id.name);
  }

  /**
   * Sets REPLICA IDENTITY FULL on keyless tables and makes the publication publish exactly the
   * selected tables.
   */
  async preparePublication(): Promise<{ publication: PublicationChange; replicaIdentityFull: string[] }> {
    const keyless = this.tables.filter((t) => !t.hasPrimaryKey && t.replicaIdentity !== 'f').map((t) => t.id);
    const changed = await ensureReplicaIdentityFull(this.client, keyless);
    const publication = await ensurePublication(this.client, this.options.name, this.tables.map((t) => t.id));
    return { publication, replicaIdentityFull: changed.map(formatTableId) };
  }

  /** The slot's state, or null when it does not exist yet. */
  async slot(): Promise<SlotState | null> {
    return readSlot(this.client, this.options.name);
  }

  /** Drops the pipeline's slot (for --resync). */
  async dropSlot(): Promise<void> {
    await dropSlot(this.client, this.options.name);
  }

  /**
   * Creates the pipeline's slot (or, with `temporary`, a throwaway one) and holds its exported
   * snapshot open until `release()`.
   */
  async holdSnapshot(temporary: boolean): Promise<HeldSnapshot> {
    const replication = await connectPostgres(this.options.url, { role: 'source', replication: 'database', applicationName: 'cdc-merge snapshot' });
    try {
      const name = temporary ? `${this.options.name}_snap_${process.pid}_${Date.now() % 1e6}` : this.options.name;
      const slot = await createSlotWithSnapshot(replication, name, { temporary, serverVersion: this.serverVersion });
      return { ...slot, release: async () => void (await replication.end().catch(() => undefined)) };
    } catch (error) {
      await replication.end().catch(() => undefined);
      throw error;
    }
  }

  /** Splits a table into chunks for parallel copy. */
  async planChunks(table: TableSchema, chunkBlocks?: number): Promise<SnapshotChunk[]> {
    return planChunks(this.client, table, {
      serverVersion: this.serverVersion,
      partitioned: this.isPartitioned(table),
      ...(chunkBlocks ? { chunkBlocks } : {}),
    });
  }

  /** Opens a session inside an exported snapshot. */
  async openSnapshotSession(snapshotName: string): Promise<SnapshotSession> {
    return SnapshotSession.open(this.options.url, snapshotName);
  }

  /**
   * The server's current WAL insert position (bytes): past every commit made so far, including
   * asynchronous commits (synchronous_commit = off) still in WAL buffers, which the write
   * position `pg_current_wal_lsn()` may not reach yet.
   */
  async currentLsn(): Promise<bigint> {
    const { rows } = await this.client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return parseLsn(rows[0]!.lsn);
  }

  /** Starts streaming from `startLsn` on a new replication connection. */
  async startStream(startLsn: bigint, tables: readonly TableSchema[], options: { heartbeatIntervalMs?: number } = {}): Promise<PgoutputChangeStream> {
    const replication = await connectPostgres(this.options.url, { role: 'source', replication: 'database', applicationName: 'cdc-merge stream' });
    return PgoutputChangeStream.start({
      replication,
      catalog: this.client,
      slot: this.options.name,
      publication: this.options.name,
      startLsn,
      tables,
      ...options,
    });
  }

  /** Closes the ordinary connection. */
  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
