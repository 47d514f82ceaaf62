/**
 * The PostgreSQL source (DESIGN.md §2): checks the server, selects tables, keeps the publication
 * and the slot, copies snapshots and streams changes through pgoutput. It knows no sink: the
 * snapshot is loaded through the pipeline's `SnapshotTarget`.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { CdcError } from '../../errors.js';
import type { TablePattern } from '../../config/table-pattern.js';
import { matchesPattern } from '../../config/table-pattern.js';
import { formatLsn, parseLsn } from '../../events/lsn.js';
import { decodePosition } from '../../events/position.js';
import { formatTableId, tableKey, type TableSchema } from '../../schema/table.js';
import { connectPostgres } from '../../sql/connect.js';
import type { ChangeSource, SourceStartOptions, SourceStarted } from '../change-source.js';
import { describeTables, listPartitions, listTables, type SourceTable } from './catalog.js';
import { PgoutputChangeStream } from './change-stream.js';
import { preparePartitionTriggers, truncateMessagePrefix } from './partition-truncate.js';
import { ensurePublication, ensureReplicaIdentityFull, publishedTables, refuseReplicaIdentityNothing } from './publication.js';
import { checkResume } from './resume.js';
import { checkSlotOwner, createSlotWithSnapshot, dropSlot, readSlot, type CreatedSlot, type SlotState } from './slot.js';
import { copyTables } from './snapshot-copy.js';
import { planChunks, SnapshotSession, type SnapshotChunk } from './snapshot-reader.js';

/** Options for {@link PostgresSource}. */
export interface PostgresSourceOptions {
  readonly url: string;
  /** Pipeline name: names the slot and the publication. `[a-z0-9_]`, at most 50 characters. */
  readonly name: string;
  /** Selected tables; empty = every table of every non-system schema. */
  readonly patterns: readonly TablePattern[];
  /** Schemas never selected: the sink's own, when it writes to the same database. */
  readonly excludeSchemas?: readonly string[];
  readonly log: Logger;
  /** Chunks copied at once during a snapshot (default 2: one per core on a small machine). */
  readonly snapshotParallelism?: number;
  /** After this long without data, in ms, write a heartbeat message to WAL (default 10 000). */
  readonly heartbeatIntervalMs?: number;
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

/** A PostgreSQL source for one pipeline; {@link open} connects. */
export class PostgresSource implements ChangeSource {
  readonly description = 'postgres';
  private tables: SourceTable[] = [];
  private selected: TableSchema[] = [];
  private connection: { client: pg.Client; serverVersion: number; database: string } | undefined;

  /** @throws {CdcError} CONFIG_INVALID for a bad pipeline name. */
  constructor(private readonly options: PostgresSourceOptions) {
    validatePipelineName(options.name);
  }

  /** Ordinary connection: catalog, publication, heartbeats. */
  get client(): pg.Client {
    if (!this.connection) throw new Error('PostgresSource: open() first');
    return this.connection.client;
  }

  /** The database the source connects to (`current_database()`). */
  get database(): string {
    if (!this.connection) throw new Error('PostgresSource: open() first');
    return this.connection.database;
  }

  /** `server_version_num`, e.g. 150020. */
  get serverVersion(): number {
    if (!this.connection) throw new Error('PostgresSource: open() first');
    return this.connection.serverVersion;
  }

  /**
   * Connects, checks the server can do logical replication and that a slot of the pipeline's
   * name is the pipeline's own, selects and describes the tables, sets REPLICA IDENTITY FULL on
   * keyless ones and keeps the publication to the selection.
   * @throws {CdcError} WAL_LEVEL_NOT_LOGICAL, SERVER_TOO_OLD, SLOT_NAME_TAKEN, TABLE_NOT_FOUND,
   *   NO_TABLES, and the connection errors of {@link connectPostgres}.
   */
  async open(): Promise<TableSchema[]> {
    this.connection ??= await connect(this.options.url);
    await this.ownSlot();
    this.selected = await this.selectTables();
    const changed = await this.prepareReplicaIdentity();
    if (changed.length) this.options.log.warn({ tables: changed }, 'set REPLICA IDENTITY FULL on tables without a primary key');
    return this.selected;
  }

  /**
   * Finds the selected tables whose finished copy no longer describes them, marks those copies
   * as not done on the target, and only then makes the publication publish exactly the
   * selection (so a crash in between still copies them again). A copy is stale when its table
   * was not published by the pipeline's publication until now (it left the selection, or was
   * dropped: changes made meanwhile were never captured), or when the source identity recorded
   * with it is not the table's OID (dropped and re-created, or another table renamed to its name).
   * @returns the tables with a finished copy that stays valid, by {@link tableKey}.
   * @throws {CdcError} PERMISSION_DENIED when the publication cannot be created or altered.
   */
  private async reconcileSelection(options: SourceStartOptions): Promise<Set<string>> {
    const log = options.log;
    const triggers = await preparePartitionTriggers(this.client, this.name, this.tables, this.serverVersion, log);
    if (triggers.unavailable) {
      log.warn(
        { reason: triggers.unavailable, tables: this.tables.filter((t) => t.relkind === 'p').map((t) => formatTableId(t.id)) },
        'TRUNCATE of a single partition and DETACH PARTITION are NOT detected for these partitioned tables: the target keeps such rows until a --resync',
      );
    } else if (triggers.installed > 0) log.info({ partitions: triggers.installed }, 'TRUNCATE trigger put on partitions');
    const detached = new Set(triggers.changed.map(tableKey));
    const published = await publishedTables(this.client, this.name);
    const oids = new Map(this.tables.map((t) => [tableKey(t.id), String(t.oid)]));
    const done = new Map(options.snapshots.filter((s) => s.state === 'done' && s.snapshotPosition !== null).map((s) => [tableKey(s.table), s]));
    const valid = new Set<string>();
    for (const table of this.selected) {
      const key = tableKey(table.id);
      const state = done.get(key);
      if (!state) continue;
      const reason = detached.has(key)
        ? 'a partition was detached from it, or one with rows attached (rows no change carried)'
        : published !== 'all' && !published.has(key)
          ? 'the table was not captured since its copy (it left the selection, or was dropped and re-created)'
          : state.sourceIdentity !== null && state.sourceIdentity !== oids.get(key)
            ? 'the table is not the one copied (dropped and re-created, or another table renamed to its name)'
            : undefined;
      if (reason === undefined) {
        valid.add(key);
        continue;
      }
      log.warn({ table: formatTableId(table.id), reason }, 'copying the table again');
      await options.snapshotTarget.forgetTableSnapshot(table);
    }
    const partitioned = new Set(this.tables.filter((t) => t.relkind === 'p').map((t) => tableKey(t.id)));
    const publication = await ensurePublication(this.client, this.name, this.selected.map((t) => t.id), partitioned);
    if (publication.created) log.info({ publication: this.name }, 'created publication');
    else if (publication.added.length || publication.removed.length) {
      log.info({ added: publication.added.map(formatTableId), removed: publication.removed.map(formatTableId) }, 'publication now publishes the selection');
    }
    return valid;
  }

  /**
   * Drops the pipeline's slot (`--resync`); the next start creates it with a new snapshot.
   * @throws {CdcError} SLOT_NAME_TAKEN when the slot of that name is not the pipeline's (it is
   *   left alone).
   */
  async reset(): Promise<void> {
    await this.ownSlot();
    await this.dropSlot();
  }

  /**
   * Checks the slot and that it can resume from what the target holds, copies the tables without
   * a finished snapshot (all of them when the slot is new: from its exported snapshot; else from
   * a temporary slot's), then streams from the merged position.
   * @throws {CdcError} SLOT_NAME_TAKEN, SLOT_INVALIDATED, SLOT_MISSING (no slot, but the target
   *   holds changes or copies from one), TARGET_BEHIND_SOURCE (the slot confirmed more than the
   *   target holds), INTERRUPTED, and the errors of the snapshot and the stream.
   */
  async start(options: SourceStartOptions): Promise<SourceStarted> {
    const { log } = options;
    // Until-caught-up target: everything committed before now.
    const catchUpLsn = options.untilCaughtUp ? await this.currentLsn() : undefined;
    let slot = await this.ownSlot();
    if (slot?.walStatus === 'lost') {
      throw new CdcError('SLOT_INVALIDATED', `replication slot "${this.name}" was invalidated: the WAL it needed is gone`, {
        remedy: 'copy everything again with: cdc run --resync (same source, target and --name)',
      });
    }
    const valid = await this.reconcileSelection(options);
    const snapshotLsns = new Map<string, bigint>();
    const copies = new Map<string, bigint>();
    for (const s of options.snapshots) {
      if (s.state !== 'done' || s.snapshotPosition === null || !valid.has(tableKey(s.table))) continue;
      const lsn = decodePosition(s.snapshotPosition)[0] ?? 0n;
      snapshotLsns.set(tableKey(s.table), lsn);
      copies.set(formatTableId(s.table), lsn);
    }
    const toCopy = this.selected.filter((t) => !snapshotLsns.has(tableKey(t.id)));
    checkResume({
      slot: this.name,
      confirmed: slot ? (slot.confirmedFlushLsn ?? 0n) : null,
      merged: options.checkpoint.positions.get('')?.position,
      copies,
      kept: this.selected.filter((t) => snapshotLsns.has(tableKey(t.id))).map((t) => formatTableId(t.id)),
    });
    let snapshotRows = 0;
    if (!slot || toCopy.length > 0) {
      const held = await this.holdSnapshot(slot !== null);
      try {
        log.info({ slot: held.name, consistentPoint: formatLsn(held.consistentPoint), tables: toCopy.length }, 'snapshot: exported');
        const totals = await copyTables({
          source: this,
          sourceIdentities: new Map(this.tables.map((t) => [tableKey(t.id), String(t.oid)])),
          sink: options.snapshotTarget,
          tables: toCopy,
          snapshotName: held.snapshotName,
          snapshotLsn: held.consistentPoint,
          log,
          parallelism: this.options.snapshotParallelism ?? 2,
          ...(options.progress ? { progress: options.progress } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        for (const n of totals.values()) snapshotRows += n;
        for (const t of toCopy) snapshotLsns.set(tableKey(t.id), held.consistentPoint);
      } finally {
        await held.release();
      }
      slot = await this.slot();
    }
    const merged = options.checkpoint.positions.get('')?.position ?? 0n;
    const confirmed = slot?.confirmedFlushLsn ?? 0n;
    const startLsn = merged > confirmed ? merged : confirmed;
    log.info({ from: formatLsn(startLsn), merged: formatLsn(merged) }, 'streaming');
    const replication = await connectPostgres(this.options.url, { role: 'source', replication: 'database', applicationName: 'cdc-merge stream' });
    const stream = PgoutputChangeStream.start({
      replication,
      catalog: this.client,
      slot: this.name,
      publication: this.name,
      startLsn,
      // Everything before the start position is merged or inside a snapshot.
      mergedLsn: startLsn,
      snapshotLsns,
      tables: this.selected,
      tableOids: new Map(this.tables.map((t) => [t.oid, t.id])),
      ...(this.serverVersion >= 140000 && this.tables.some((t) => t.relkind === 'p') ? { truncateMessagePrefix: truncateMessagePrefix(this.name) } : {}),
      ...(catchUpLsn !== undefined ? { catchUpLsn } : {}),
      ...(this.options.heartbeatIntervalMs ? { heartbeatIntervalMs: this.options.heartbeatIntervalMs } : {}),
    });
    return { snapshotRows, stream };
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
    this.tables = await listTables(this.client, this.options.patterns, this.options.excludeSchemas ?? []);
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
   * Refuses tables with REPLICA IDENTITY NOTHING (on the table or one of its partitions) and sets
   * REPLICA IDENTITY FULL on keyless tables and on every partition of a keyless partitioned
   * table (partitions attached since the last start included). The publication is kept by
   * {@link start}.
   * @returns the tables changed, formatted.
   * @throws {CdcError} REPLICA_IDENTITY_NOTHING, PERMISSION_DENIED.
   */
  async prepareReplicaIdentity(): Promise<string[]> {
    const partitions = await listPartitions(this.client, this.tables);
    refuseReplicaIdentityNothing([...this.tables, ...partitions]);
    // A table identified by a unique index (REPLICA IDENTITY USING INDEX) is keyed by it.
    const keylessRoots = new Set(this.tables.filter((t) => !t.hasPrimaryKey && t.replicaIdentity !== 'i').map((t) => tableKey(t.id)));
    const keyless = [
      ...this.tables.filter((t) => !t.hasPrimaryKey && t.replicaIdentity === 'd').map((t) => t.id),
      ...partitions.filter((p) => keylessRoots.has(tableKey(p.root)) && p.replicaIdentity !== 'f').map((p) => p.id),
    ];
    const changed = await ensureReplicaIdentityFull(this.client, keyless);
    return changed.map(formatTableId);
  }

  /** The slot's state, or null when it does not exist yet. */
  async slot(): Promise<SlotState | null> {
    return readSlot(this.client, this.options.name);
  }

  /**
   * The pipeline's slot, or null when there is none.
   * @throws {CdcError} SLOT_NAME_TAKEN when a slot of that name exists but is not the pipeline's
   *   (another database's, another plugin's, or a physical slot).
   */
  async ownSlot(): Promise<SlotState | null> {
    const slot = await this.slot();
    if (slot) checkSlotOwner(slot, this.database);
    return slot;
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

  /** Closes the ordinary connection. */
  async close(): Promise<void> {
    await this.connection?.client.end().catch(() => undefined);
    this.connection = undefined;
  }
}

/**
 * Connects and checks the server can do logical replication.
 * @throws {CdcError} WAL_LEVEL_NOT_LOGICAL, SERVER_TOO_OLD, and the connection errors of
 *   {@link connectPostgres}.
 */
async function connect(url: string): Promise<{ client: pg.Client; serverVersion: number; database: string }> {
  const client = await connectPostgres(url, { role: 'source' });
  try {
    const { rows } = await client.query<{ wal_level: string; version: string; database: string }>(
      "SELECT current_setting('wal_level') AS wal_level, current_setting('server_version_num') AS version, current_database() AS database",
    );
    const { wal_level, version, database } = rows[0]!;
    if (Number(version) < 130000) {
      throw new CdcError('SERVER_TOO_OLD', `the source runs PostgreSQL ${version}; cdc-merge needs 13 or later`, {
        remedy: 'upgrade the source server (publish_via_partition_root needs 13)',
      });
    }
    if (wal_level !== 'logical') {
      throw new CdcError('WAL_LEVEL_NOT_LOGICAL', `the source has wal_level = ${wal_level}; logical replication needs wal_level = logical`, {
        remedy: 'run ALTER SYSTEM SET wal_level = logical; on the source and restart it',
      });
    }
    return { client, serverVersion: Number(version), database };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
