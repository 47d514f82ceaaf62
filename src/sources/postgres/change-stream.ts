/**
 * The streaming half of the PostgreSQL source: START_REPLICATION with pgoutput, decoded into
 * the change model ({@link ChangeMessage}).
 *
 * - Row values stay in text form; pgoutput's 'u' (unchanged TOAST) becomes {@link UNCHANGED},
 *   except under REPLICA IDENTITY FULL, where the old row is complete and fills it.
 * - A Relation message that differs from what was last emitted for that table becomes a
 *   `relation` message, queued just before the first change that uses it (ADD COLUMN etc.
 *   arrive before the rows that carry them).
 * - Standby status updates report the acknowledged position every `statusIntervalMs` ms, also
 *   while the consumer is busy, so the server never times the connection out.
 * - When no transaction is open and the server's keepalive says WAL has moved on, an `idle`
 *   message lets the pipeline acknowledge past changes it was not sent (DESIGN.md §3.11).
 * @see https://www.postgresql.org/docs/current/protocol-logical-replication.html
 */
import type pg from 'pg';
import { CdcError } from '../../errors.js';
import { UNCHANGED, type ChangeMessage, type ColumnValue, type RowOrigin, type RowValues } from '../../events/change.js';
import type { PartitionPosition } from '../../events/checkpoint.js';
import { formatLsn } from '../../events/lsn.js';
import { PositionBase } from '../../events/position.js';
import type { ChangeStream } from '../change-source.js';
import { formatTableId, sameShape, tableKey, type ColumnSchema, type TableId, type TableSchema } from '../../schema/table.js';
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { TypeResolver } from './catalog.js';
import {
  dateToPgMicros,
  decodePgoutputMessage,
  decodeReplicationFrame,
  encodeStandbyStatusUpdate,
  type PgoutputRelation,
  type TupleData,
} from './pgoutput/index.js';
import { ReplicationStream, startReplicationStream } from './replication-stream.js';
import { logicalTypeOf } from '../../schema/type-map.js';

/** Options for {@link PgoutputChangeStream}. */
export interface ChangeStreamOptions {
  /** A replication-mode connection (`replication: 'database'`), idle. */
  readonly replication: pg.Client;
  /** An ordinary connection to the same database, for type look-ups and heartbeats. */
  readonly catalog: pg.Client;
  readonly slot: string;
  readonly publication: string;
  /** Where to start (bytes of WAL); the server starts at the slot's confirmed position if later. */
  readonly startLsn: bigint;
  /**
   * Transactions committed before this LSN are merged already and are dropped whole (the server
   * may send a transaction again that ends past the start position).
   */
  readonly mergedLsn: bigint;
  /**
   * Per table (`tableKey`), the LSN of the snapshot its copy was taken at: its changes committed
   * before that are in the copy and are dropped.
   */
  readonly snapshotLsns: ReadonlyMap<string, bigint>;
  /** With `--until-caught-up`: the server's WAL position at start; {@link caughtUp} once acknowledged past it. */
  readonly catchUpLsn?: bigint;
  /** Table definitions known from the catalog, to keep nullability and keys across Relation messages. */
  readonly tables: readonly TableSchema[];
  /**
   * The selected tables by relation OID. A change of a relation not in it is dropped; one whose
   * name differs from its entry is a rename (TABLE_RENAMED). Absent: relations are matched by
   * name.
   */
  readonly tableOids?: ReadonlyMap<number, TableId>;
  /**
   * Prefix of the transactional messages that report a truncated partition (content: the root's
   * OID); see partition-truncate.ts. Set: pgoutput is asked for messages (PostgreSQL 14+).
   */
  readonly truncateMessagePrefix?: string;
  /** How often to send a standby status update, in ms (default 10 000; below wal_sender_timeout). */
  readonly statusIntervalMs?: number;
  /** After this long without data, in ms, write a heartbeat message to WAL (default 10 000). */
  readonly heartbeatIntervalMs?: number;
}

interface RelationState {
  readonly id: TableId;
  readonly replicaIdentity: string;
  readonly schema: TableSchema;
  /** True once this shape was compared with (and if needed emitted as) the table's last shape. */
  emitted: boolean;
}

/** The slot's one partition (`''`), at an LSN; its text is made only when read. */
class LsnPosition implements PartitionPosition {
  readonly partition = '';
  constructor(readonly position: bigint) {}
  get text(): string {
    return formatLsn(this.position);
  }
}

/** A running pgoutput stream. Pull with {@link next}; report durability with {@link acknowledge}. */
export class PgoutputChangeStream implements ChangeStream {
  private readonly stream: ReplicationStream;
  private readonly relations = new Map<number, RelationState>();
  private readonly known = new Map<string, TableSchema>();
  private readonly emitted = new Map<string, TableSchema>();
  private readonly resolver: TypeResolver;
  private readonly pending: ChangeMessage[] = [];
  /** A Relation message waiting for its catalog look-ups; nothing after it is decoded before. */
  private deferred: PgoutputRelation | undefined;
  private received = 0n;
  private acknowledged = 0n;
  private inTransaction = false;
  private ordinal = 0;
  /** What the rows of the open transaction share. */
  private origin: RowOrigin | undefined;
  /** Roots (by OID) a partition of which the open transaction truncated, per the pipeline's trigger. */
  private readonly truncatedPartitions = new Map<number, TableId>();
  /** The open transaction was merged before: drop it whole. */
  private skipping = false;
  /** The open transaction's commit LSN is below some table's snapshot LSN: check each row. */
  private checkSnapshots = false;
  private commitLsn = 0n;
  /** The highest snapshot LSN: transactions committed at or after it need no snapshot check. */
  private readonly lastSnapshotLsn: bigint;
  private statusTimer: NodeJS.Timeout | undefined;
  private lastDataAt = Date.now();
  private lastHeartbeatAt = Date.now();
  private readonly heartbeatIntervalMs: number;

  private constructor(private readonly options: ChangeStreamOptions) {
    for (const t of options.tables) this.known.set(tableKey(t.id), t);
    this.resolver = new TypeResolver(options.catalog);
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
    const publication = quoteLiteral(quoteIdent(options.publication));
    this.stream = new ReplicationStream(
      `START_REPLICATION SLOT ${quoteIdent(options.slot)} LOGICAL ${formatLsn(options.startLsn)} ` +
        `(proto_version '1', publication_names ${publication}${options.truncateMessagePrefix === undefined ? '' : ", messages 'true'"})`,
    );
    this.acknowledged = options.startLsn;
    this.lastSnapshotLsn = [...options.snapshotLsns.values()].reduce((a, b) => (a > b ? a : b), 0n);
  }

  /** Starts streaming. */
  static start(options: ChangeStreamOptions): PgoutputChangeStream {
    const s = new PgoutputChangeStream(options);
    startReplicationStream(options.replication, s.stream);
    s.statusTimer = setInterval(() => s.sendStatus(false), options.statusIntervalMs ?? 10_000);
    s.statusTimer.unref();
    return s;
  }

  /** Highest WAL position received so far (bytes). */
  get receivedLsn(): bigint {
    return this.received;
  }

  /**
   * Records that everything before the slot's position (partition `''`) is durably merged: the
   * slot may discard it. Sent to the server at once.
   */
  acknowledge(positions: readonly PartitionPosition[]): Promise<void> {
    for (const p of positions) {
      if (p.partition !== '' || p.position <= this.acknowledged) continue;
      this.acknowledged = p.position;
      this.sendStatus(false);
    }
    return Promise.resolve();
  }

  /** True once everything up to the WAL position at start is acknowledged (`catchUpLsn`). */
  caughtUp(): boolean {
    return this.options.catchUpLsn !== undefined && this.acknowledged >= this.options.catchUpLsn;
  }

  /**
   * The next change message, or `'timeout'` when nothing arrived within `timeoutMs` ms. On a
   * timeout while catching up, asks the server for a keepalive (its position lets an idle
   * pipeline catch up).
   * @throws {CdcError} SLOT_INVALIDATED / REPLICATION_FAILED (retryable) when the server reports
   *   an error or ends the stream.
   */
  async next(timeoutMs: number): Promise<ChangeMessage | 'timeout'> {
    for (;;) {
      const ready = this.poll();
      if (ready) return ready;
      const deferred = this.deferred;
      if (deferred) {
        this.deferred = undefined;
        await this.onRelation(deferred);
        continue;
      }
      let frame: Buffer | 'timeout' | 'end';
      try {
        frame = await this.stream.read(timeoutMs);
      } catch (error) {
        throw this.explain(error);
      }
      if (frame === 'timeout') {
        await this.maybeHeartbeat();
        if (this.options.catchUpLsn !== undefined) this.requestKeepalive();
        return 'timeout';
      }
      if (frame === 'end') throw new CdcError('REPLICATION_FAILED', 'the source ended the replication stream', { retryable: true });
      const idle = this.frame(frame);
      if (idle) return idle;
    }
  }

  /**
   * The next change message if it can be had without waiting (queued, or decodable from frames
   * already received); else undefined, and {@link next} continues. Saves a promise per message
   * on the hot path.
   */
  poll(): ChangeMessage | undefined {
    for (;;) {
      const queued = this.pending.shift();
      if (queued) return queued;
      if (this.deferred) return undefined;
      const frame = this.stream.poll();
      if (!frame) return undefined;
      const idle = this.frame(frame);
      if (idle) return idle;
    }
  }

  /** Handles one frame; returns an idle message for a keepalive that moves past the acknowledged position. */
  private frame(frame: Buffer): ChangeMessage | undefined {
    const f = decodeReplicationFrame(frame);
    if (f.kind === 'keepalive') {
      if (f.walEnd > this.received) this.received = f.walEnd;
      if (f.replyRequested) this.sendStatus(false);
      if (!this.inTransaction && f.walEnd > this.acknowledged) return { kind: 'idle', positions: [new LsnPosition(f.walEnd)] };
      return undefined;
    }
    if (f.walStart > this.received) this.received = f.walStart;
    this.lastDataAt = Date.now();
    this.handle(f.data);
    return undefined;
  }

  /** Ends the stream (CopyDone), stops the status timer and closes the replication connection. */
  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    this.sendStatus(false);
    await this.stream.end();
    await this.options.replication.end().catch(() => undefined);
  }

  /** Asks the server for a keepalive now (its position lets an idle pipeline catch up). */
  requestKeepalive(): void {
    this.sendStatus(true);
  }

  private sendStatus(replyRequested: boolean): void {
    const written = this.received > this.acknowledged ? this.received : this.acknowledged;
    this.stream.send(
      encodeStandbyStatusUpdate({
        written,
        flushed: this.acknowledged,
        applied: this.acknowledged,
        clientTimeMicros: dateToPgMicros(new Date()),
        replyRequested,
      }),
    );
  }

  private async maybeHeartbeat(): Promise<void> {
    const now = Date.now();
    if (this.inTransaction || now - this.lastDataAt < this.heartbeatIntervalMs || now - this.lastHeartbeatAt < this.heartbeatIntervalMs) return;
    this.lastHeartbeatAt = now;
    // A non-transactional message writes WAL even on an idle database, so the server's next
    // keepalive reports a newer position that we may acknowledge; then ask for that keepalive.
    await this.options.catalog.query("SELECT pg_logical_emit_message(false, 'cdc-merge-heartbeat', '')");
    this.sendStatus(true);
  }

  /** Decodes one pgoutput message; a Relation message is left in `deferred` for {@link next} (it may query the catalog). */
  private handle(data: Buffer): void {
    const m = decodePgoutputMessage(data);
    switch (m.kind) {
      case 'begin':
        this.inTransaction = true;
        this.ordinal = 0;
        this.truncatedPartitions.clear();
        this.commitLsn = m.finalLsn;
        this.skipping = m.finalLsn < this.options.mergedLsn;
        this.checkSnapshots = m.finalLsn < this.lastSnapshotLsn;
        if (this.skipping) return;
        this.origin = { position: new PositionBase([m.finalLsn]), commitTime: m.commitTime };
        this.pending.push({ kind: 'begin', origin: this.origin });
        return;
      case 'commit':
        this.inTransaction = false;
        if (m.endLsn > this.received) this.received = m.endLsn;
        if (this.skipping) return;
        if (this.truncatedPartitions.size > 0) this.partitionsTruncated();
        this.pending.push({ kind: 'commit', positions: [new LsnPosition(m.endLsn)], watermarks: [], transactions: 1, messages: 0, commitTime: m.commitTime });
        return;
      case 'relation':
        this.deferred = m;
        return;
      case 'insert': {
        const rel = this.changed(m.relationId);
        if (!rel) return;
        this.pending.push({ kind: 'insert', table: rel.id, origin: this.origin!, ordinal: this.ordinal++, row: toRow(m.newTuple) });
        return;
      }
      case 'update': {
        const rel = this.changed(m.relationId);
        if (!rel) return;
        let row = toRow(m.newTuple);
        const oldRow = m.oldTuple ? toRow(m.oldTuple.values) : undefined;
        if (oldRow && m.oldTuple?.kind === 'O') row = row.map((v, i) => (v === UNCHANGED ? oldRow[i]! : v));
        this.pending.push({ kind: 'update', table: rel.id, origin: this.origin!, ordinal: this.ordinal++, row, ...(oldRow ? { oldRow } : {}) });
        return;
      }
      case 'delete': {
        const rel = this.changed(m.relationId);
        if (!rel) return;
        this.pending.push({ kind: 'delete', table: rel.id, origin: this.origin!, ordinal: this.ordinal++, oldRow: toRow(m.oldTuple.values) });
        return;
      }
      case 'truncate': {
        if (this.skipping) return;
        const tables = m.relationIds.map((id) => this.changed(id)).filter((rel) => rel !== undefined);
        // A root truncated whole says it all: its partitions' trigger messages add nothing.
        for (const id of m.relationIds) this.truncatedPartitions.delete(id);
        this.ordinal++;
        if (tables.length > 0) this.pending.push({ kind: 'truncate', tables: tables.map((rel) => rel.id) });
        return;
      }
      case 'message': {
        const prefix = this.options.truncateMessagePrefix;
        if (this.skipping || !m.transactional || prefix === undefined || m.prefix !== prefix) return;
        const rootOid = Number(m.content.toString('utf8'));
        const root = this.options.tableOids?.get(rootOid);
        if (!root) return;
        const snapshot = this.options.snapshotLsns.get(tableKey(root));
        if (this.checkSnapshots && snapshot !== undefined && this.commitLsn < snapshot) return;
        this.truncatedPartitions.set(rootOid, root);
        return;
      }
      case 'origin':
      case 'type':
        return;
    }
  }

  /**
   * At the commit of a transaction that truncated single partitions (the pipeline's trigger
   * said so; pgoutput does not publish it): their rows cannot be told apart on the target.
   * @throws {CdcError} PARTITION_TRUNCATED (retryable, with the roots to copy again in
   *   `recopy`): the pipeline marks the roots' copies not done and starts again, which copies
   *   them as of after this transaction.
   */
  private partitionsTruncated(): never {
    const roots = [...this.truncatedPartitions.values()];
    this.truncatedPartitions.clear();
    const names = roots.map(formatTableId).join(', ');
    throw new CdcError('PARTITION_TRUNCATED', `a partition of ${names} was truncated (transaction committed at LSN ${formatLsn(this.commitLsn)}): the change stream does not carry it`, {
      retryable: true,
      recopy: roots,
      context: { tables: roots.map(formatTableId) },
      remedy: `nothing: ${names} is copied again from the source as of after that transaction`,
    });
  }

  /**
   * The relation a change refers to, or undefined when the change is dropped: its transaction
   * was merged before, the snapshot of the selected table it belongs to holds it, or it belongs
   * to no selected table. Relations are matched to the selection by OID (see
   * {@link ChangeStreamOptions.tableOids}), so a table renamed before its snapshot is recognised.
   * @throws {CdcError} TABLE_RENAMED (retryable) when a selected table was renamed while
   *   streaming: changes up to there are merged; the next start selects again and copies the
   *   table under its new name if the selection still matches it.
   */
  private changed(relationId: number): RelationState | undefined {
    const rel = this.relations.get(relationId);
    if (!rel) {
      throw new CdcError('PROTOCOL_VIOLATION', `pgoutput sent a change for relation ${relationId} before its Relation message`);
    }
    if (this.skipping) return undefined;
    const oids = this.options.tableOids;
    const selectedAs = oids ? oids.get(relationId) : this.known.has(tableKey(rel.id)) ? rel.id : undefined;
    if (!selectedAs) return undefined;
    if (this.checkSnapshots) {
      const snapshot = this.options.snapshotLsns.get(tableKey(selectedAs));
      if (snapshot !== undefined && this.commitLsn < snapshot) return undefined;
    }
    if (selectedAs.schema !== rel.id.schema || selectedAs.name !== rel.id.name) {
      const from = formatTableId(selectedAs);
      const to = formatTableId(rel.id);
      throw new CdcError('TABLE_RENAMED', `source table ${from} was renamed to ${to} (transaction committed at LSN ${formatLsn(this.commitLsn)})`, {
        retryable: true,
        context: { table: from, renamedTo: to },
        remedy: `changes before the rename are merged into ${from}, which is no longer updated: the next start copies ${to} afresh if --tables selects it; rename or drop the target's ${from} yourself`,
      });
    }
    return this.relation(relationId);
  }

  /**
   * The relation a change refers to; queues its `relation` message first when its shape was
   * not emitted yet. Emitting lazily matters: with publish_via_partition_root, PostgreSQL also
   * sends Relation messages for partitions that no change refers to.
   */
  private relation(relationId: number): RelationState {
    const rel = this.relations.get(relationId);
    if (!rel) {
      throw new CdcError('PROTOCOL_VIOLATION', `pgoutput sent a change for relation ${relationId} before its Relation message`);
    }
    if (!rel.emitted) {
      rel.emitted = true;
      const key = tableKey(rel.id);
      const last = this.emitted.get(key);
      if (!last || !sameShape(last, rel.schema)) {
        this.emitted.set(key, rel.schema);
        // A transaction merged before is dropped whole; the sink holds its shape already.
        if (!this.skipping) this.pending.push({ kind: 'relation', table: rel.schema });
      }
    }
    return rel;
  }

  private async onRelation(m: PgoutputRelation): Promise<void> {
    const id = { schema: m.namespace, name: m.name };
    const key = tableKey(id);
    const before = this.emitted.get(key) ?? this.known.get(key);
    const beforeColumns = new Map((before?.columns ?? []).map((c) => [c.name, c]));
    const resolved = await this.resolver.resolve(m.columns.map((c) => ({ oid: c.typeOid, typmod: c.typeMod })));
    const catalog = await this.columnFacts(m.relationId);
    const names = new Set(m.columns.map((c) => c.name));
    const kept = before && before.primaryKey.every((k) => names.has(k)) ? before.primaryKey : [];
    // Rows are identified by what the replica identity sends in old tuples: the key columns
    // flagged under DEFAULT (the primary key) or USING INDEX, so a new primary key or identity
    // index re-keys the target (deletes then still find their rows). Under FULL every column is
    // flagged and the old row is whole: the known key stays. Same columns: the known order stays.
    const flagged = m.replicaIdentity === 'd' || m.replicaIdentity === 'i' ? m.columns.filter((c) => c.isKey).map((c) => c.name) : [];
    const sameKey = flagged.length === kept.length && flagged.every((k) => kept.includes(k));
    const primaryKey = flagged.length === 0 || sameKey ? kept : flagged;
    const columns: ColumnSchema[] = m.columns.map((c, i) => {
      const old = beforeColumns.get(c.name);
      const r = resolved[i]!;
      const facts = catalog.get(c.name);
      // Nullability only ever relaxes: a column the source now allows NULL in is nullable on the
      // target from here on (pgoutput sends a Relation message after ALTER TABLE, but no
      // nullability); one that became NOT NULL stays nullable (older rows may hold NULL).
      const nullable = primaryKey.includes(c.name) ? false : (old?.nullable ?? true) || facts?.notNull === false;
      // The value rows that existed before an ADD COLUMN hold ("fast default"), whenever the
      // catalog still has it: the target may be adding this column only now (it was added while
      // no pipeline ran), and its existing rows must get what the source reads.
      const missingValue = facts?.hasMissing ? facts.missing : undefined;
      const attnum = facts?.attnum;
      if (old && old.type === r.type && old.nullable === nullable && old.missingValue === missingValue && old.sourceAttnum === attnum) return old;
      return {
        name: c.name,
        type: r.type,
        logicalType: logicalTypeOf(r.type),
        nullable,
        toastable: r.toastable,
        ...(attnum === undefined ? {} : { sourceAttnum: attnum }),
        ...(missingValue === undefined ? {} : { missingValue }),
      };
    });
    const schema: TableSchema = { id, columns, primaryKey };
    this.relations.set(m.relationId, { id, replicaIdentity: m.replicaIdentity, schema, emitted: false });
  }

  /**
   * Per column of the relation (by name): its attnum (kept by a rename), NOT NULL on the source now, and the value rows that
   * existed before an ADD COLUMN hold ("fast default", `pg_attribute.attmissingval`, kept on
   * the table or, for a partitioned table, on its partitions). Read from the current catalog:
   * right unless the column was dropped and re-added since, or the table rewritten (which
   * materialises the value and clears `atthasmissing`).
   */
  private async columnFacts(relationId: number): Promise<Map<string, { notNull: boolean; hasMissing: boolean; missing: string | null; attnum: number | undefined }>> {
    const { rows } = await this.options.catalog.query<{ attname: string; not_null: boolean; has_missing: boolean; missing: string | null; attnum: number | null }>(
      `SELECT a.attname,
              min(a.attnum) FILTER (WHERE a.attrelid = $1::oid)::int AS attnum,
              bool_or(a.attnotnull) FILTER (WHERE a.attrelid = $1::oid) AS not_null,
              bool_or(a.atthasmissing) AS has_missing,
              (array_agg((a.attmissingval::text::text[])[1]) FILTER (WHERE a.atthasmissing))[1] AS missing
         FROM pg_attribute a
        WHERE (a.attrelid = $1::oid OR a.attrelid IN (SELECT relid FROM pg_partition_tree($1::oid::regclass)))
          AND a.attnum > 0 AND NOT a.attisdropped
        GROUP BY a.attname`,
      [relationId],
    );
    return new Map(rows.map((r) => [r.attname, { notNull: r.not_null, hasMissing: r.has_missing, missing: r.missing, attnum: r.attnum ?? undefined }]));
  }

  private explain(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    if (/can no longer get changes from replication slot|has been invalidated|requested WAL segment .* has already been removed/i.test(message)) {
      return new CdcError('SLOT_INVALIDATED', `replication slot "${this.options.slot}" was invalidated: the WAL it needed is gone`, {
        cause: error,
        remedy: `re-copy everything with: cdc run --resync ... (drops and recreates the slot, then snapshots every table again)`,
      });
    }
    if (/is active for PID/i.test(message)) {
      return new CdcError('SLOT_IN_USE', `replication slot "${this.options.slot}" is in use by another process`, {
        cause: error,
        remedy: 'stop the other cdc run using this --name, or choose another --name',
        retryable: true,
      });
    }
    return new CdcError('REPLICATION_FAILED', `logical replication stream failed: ${message}`, { cause: error, retryable: true });
  }
}

function toRow(tuple: TupleData): RowValues {
  const row = new Array<ColumnValue>(tuple.length);
  for (let i = 0; i < tuple.length; i++) {
    const v = tuple[i]!;
    row[i] = v.kind === 'text' ? v.value : v.kind === 'null' ? null : v.kind === 'unchanged' ? UNCHANGED : v.value.toString('utf8');
  }
  return row;
}
