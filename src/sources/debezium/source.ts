/**
 * The Debezium source (DESIGN.md §2): Debezium change events read from a broker (NATS JetStream
 * or Kafka), decoded and mapped onto the change model.
 *
 * Positions: a broker has source partitions (one for a JetStream stream, `topic/partition` for
 * Kafka), each with a strictly increasing position (stream sequence, partition offset). The sink
 * stores each partition's last merged position with the data; messages at or below it are
 * skipped, so a redelivery changes nothing. Events a restarted connector sent twice are skipped
 * by their source position ({@link SourceWatermarks}).
 *
 * Framing: after each message the source emits a `commit` boundary unless a source transaction
 * is still incomplete (Debezium's transaction metadata, {@link TransactionTracker}), so a batch
 * never ends inside one (§3.3). A transaction still incomplete after the wait limit is let go
 * with a warning. A message that cannot be decoded becomes a `dead-letter` message (set aside in
 * the sink with the batch), or stops the pipeline, as configured.
 */
import type { Logger } from 'pino';
import { CdcError } from '../../errors.js';
import type { ChangeMessage, RowOrigin } from '../../events/change.js';
import type { Checkpoint, PartitionPosition } from '../../events/checkpoint.js';
import { compareSourcePositions, type DebeziumRecord, type DebeziumTombstoneRecord, type SourcePosition } from '../../events/debezium/index.js';
import { PositionBase } from '../../events/position.js';
import type { Metrics } from '../../observability/metrics.js';
import { sameShape, tableKey, type TableId, type TableSchema } from '../../schema/table.js';
import type { ChangeSource, ChangeStream, SourceStartOptions, SourceStarted } from '../change-source.js';
import { isWideningTypeChange } from '../../schema/type-widening.js';
import { changeFromRecord, deleteFromKey, tableFromRecord } from './record-mapping.js';
import { SourceWatermarks } from './source-watermarks.js';
import { TransactionTracker, type TransactionFraming } from './transaction-tracker.js';
import { describePosition, type MessageTransport, type SourceMessage } from './transport.js';

/** An open broker consumer, as {@link DebeziumSourceOptions.connect} returns it. */
export interface BrokerConnection {
  readonly transport: MessageTransport;
  /** Decodes one message. Throws a CdcError for a message that cannot be decoded. */
  readonly decode: (message: SourceMessage) => DebeziumRecord;
  /** How transaction metadata marks transactions (default: `stream-order`). */
  readonly transactions?: TransactionFraming;
  /** Closes the consumer. */
  close(): Promise<void>;
}

/** Options for {@link DebeziumSource}. */
export interface DebeziumSourceOptions {
  /** For logs: `debezium over kafka`. */
  readonly description: string;
  /** Opens the broker consumer to resume after `checkpoint`. */
  readonly connect: (checkpoint: Checkpoint) => Promise<BrokerConnection>;
  readonly log: Logger;
  /** The target table of a change record (default: the record's own schema and table). */
  readonly route?: (table: TableId, message: SourceMessage) => TableId;
  /** Primary-key columns of a source table (source names) when the messages carry no record key. */
  readonly keyOf?: (table: TableId) => readonly string[] | undefined;
  /** `dead_letter` (default): set undecodable messages aside and go on; `stop`: fail. */
  readonly onInvalid?: 'dead_letter' | 'stop';
  /**
   * How long a batch waits for the missing events of a source transaction before it ends
   * anyway, with a warning, ms (default 60 000).
   */
  readonly transactionWaitMs?: number;
}

/** Debezium events from a broker; see the module comment. */
export class DebeziumSource implements ChangeSource {
  private connection: BrokerConnection | undefined;

  constructor(private readonly options: DebeziumSourceOptions) {}

  get description(): string {
    return this.options.description;
  }

  /** Tables arrive with the events: none is known before streaming. */
  open(): Promise<readonly TableSchema[]> {
    return Promise.resolve([]);
  }

  /**
   * Opens the consumer after the checkpoint's positions and starts reading.
   * @throws {CdcError} the errors of the broker connection.
   */
  async start(options: SourceStartOptions): Promise<SourceStarted> {
    this.connection = await this.options.connect(options.checkpoint);
    options.log.info({ source: this.description }, 'reading Debezium events');
    return { snapshotRows: 0, stream: new DebeziumStream(this.connection, this.options, options) };
  }

  async close(): Promise<void> {
    await this.connection?.close();
    this.connection = undefined;
  }
}

/** A broker partition's position; its text is made only when read. */
class BrokerPosition implements PartitionPosition {
  constructor(
    readonly partition: string,
    readonly position: bigint,
  ) {}
  get text(): string {
    return describePosition({ partition: this.partition, sequence: this.position });
  }
}

/** Messages fetched at once. */
const FETCH_MAX = 1000;

class DebeziumStream implements ChangeStream {
  private readonly transport: MessageTransport;
  private readonly decode: (message: SourceMessage) => DebeziumRecord;
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly untilCaughtUp: boolean;
  private readonly waitMs: number;
  /** Per partition: the last position read (into the open or a committed batch). */
  private readonly last = new Map<string, bigint>();
  /** Per partition: the last position acknowledged (merged). */
  private readonly acknowledged = new Map<string, bigint>();
  private readonly watermarks: SourceWatermarks;
  private readonly tracker: TransactionTracker;
  private readonly known = new Map<string, TableSchema>();
  /** Per target table: the source position of the event whose shape is {@link known}. */
  private readonly shapePositions = new Map<string, SourcePosition>();
  /** Per subject (topic): the target table its last change event went to. */
  private readonly subjectTables = new Map<string, string>();
  /** Per partition: the source position of the last change event read from it in this run. */
  private readonly partitionPositions = new Map<string, SourcePosition>();
  private readonly queue: ChangeMessage[] = [];
  private fetched: SourceMessage[] = [];
  private fetchedAt = 0;
  /** Partitions read since the last boundary, with their last position. */
  private readonly touched = new Map<string, bigint>();
  private messagesSinceBoundary = 0;
  private transactionsSinceBoundary = 0;
  /** True when the last fetch came back empty: the broker had nothing more. */
  private drained = false;
  /** The commit time of the last event, reused while it repeats (the sink formats each new Date once). */
  private eventMs = Number.NaN;
  private eventTime = new Date(0);

  constructor(
    connection: BrokerConnection,
    private readonly options: DebeziumSourceOptions,
    start: SourceStartOptions,
  ) {
    this.transport = connection.transport;
    this.decode = connection.decode;
    this.log = start.log;
    this.metrics = start.metrics;
    this.untilCaughtUp = start.untilCaughtUp;
    this.waitMs = options.transactionWaitMs ?? 60_000;
    for (const p of start.checkpoint.positions.values()) {
      this.last.set(p.partition, p.position);
      this.acknowledged.set(p.partition, p.position);
    }
    this.watermarks = new SourceWatermarks(start.checkpoint.watermarks.values());
    // The target's tables as stored: a table's first event in this run is compared with them,
    // and a tombstone read before any event of its table finds its key there. Each stored shape
    // came from an event at or below the highest stored watermark.
    const highest = this.watermarks.highest();
    for (const t of start.targetTables ?? []) {
      this.known.set(tableKey(t.id), t);
      if (highest) this.shapePositions.set(tableKey(t.id), highest);
    }
    this.tracker = new TransactionTracker(connection.transactions?.mode ?? 'stream-order', connection.transactions?.consumes);
  }

  poll(): ChangeMessage | undefined {
    for (;;) {
      const queued = this.queue.shift();
      if (queued) return queued;
      if (this.fetchedAt >= this.fetched.length) return undefined;
      this.read(this.fetched[this.fetchedAt++]!);
    }
  }

  async next(timeoutMs: number): Promise<ChangeMessage | 'timeout'> {
    for (;;) {
      const ready = this.poll();
      if (ready) return ready;
      this.fetched = await this.transport.fetch(FETCH_MAX, timeoutMs);
      this.fetchedAt = 0;
      if (this.fetched.length > 0) {
        this.drained = false;
        continue;
      }
      this.drained = true;
      if (!this.tracker.settled) {
        // Nothing more is coming now. Catching up, the run ends with what there is; else a
        // transaction that stayed incomplete past the wait limit is let go.
        if (this.untilCaughtUp) this.abandonAll();
        else this.abandonStale();
        if (this.tracker.settled) this.boundary();
      }
      const queued = this.queue.shift();
      return queued ?? 'timeout';
    }
  }

  async acknowledge(positions: readonly PartitionPosition[]): Promise<void> {
    for (const p of positions) this.acknowledged.set(p.partition, p.position);
    await this.transport.acknowledge(new Map(positions.map((p) => [p.partition, p.position])));
  }

  /** The broker had nothing more at the last fetch and everything read is merged. */
  caughtUp(): boolean {
    if (!this.drained || this.queue.length > 0 || this.fetchedAt < this.fetched.length || !this.tracker.settled) return false;
    for (const [partition, position] of this.last) if ((this.acknowledged.get(partition) ?? -1n) < position) return false;
    return true;
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Turns one broker message into change messages on the queue. */
  private read(m: SourceMessage): void {
    const partition = m.partition ?? '';
    const previous = this.last.get(partition);
    if (previous !== undefined && m.sequence <= previous) return;
    let record: DebeziumRecord | null = null;
    try {
      record = this.decode(m);
    } catch (error) {
      if (this.options.onInvalid === 'stop' || !(error instanceof CdcError)) throw error;
      this.deadLetter(m, error);
    }
    if (record?.kind === 'transaction') {
      if (record.status === 'BEGIN') this.tracker.begin(record.id, Date.now());
      else {
        this.tracker.end(record, Date.now());
        this.transactionsSinceBoundary++;
      }
    } else if (record?.kind === 'change') {
      const sourceTable = `${record.table.schema}.${record.table.name}`;
      if (record.transaction) this.tracker.change(record.transaction.id, Date.now(), sourceTable);
      else this.tracker.read(sourceTable);
      if (this.watermarks.isReplay(partition, record)) {
        this.metrics?.replayedTotal.inc();
        this.log.debug({ subject: m.subject, position: describePosition(m), source: record.position.text }, 'skipped a change the connector sent again');
        record = null;
      }
    }
    if (record?.kind === 'change') {
      const id = this.options.route ? this.options.route(record.table, m) : record.table;
      const derived = tableFromRecord(record, id, this.options.keyOf?.(record.table));
      const key = tableKey(id);
      const before = this.known.get(key);
      let table = derived;
      if (!before || !sameShape(before, derived)) {
        if (before && olderShape(before, derived, record.position, this.shapePositions.get(key))) {
          // An event from before a schema change (a lagging partition): it is read in the
          // newer shape, its missing columns as NULL; the target keeps its columns and types.
          table = before;
          this.log.debug({ table: key, source: record.position.text }, 'an event in an older shape of its table: read in the newer shape');
        } else {
          this.queue.push({ kind: 'relation', table: derived });
          this.known.set(key, derived);
          this.shapePositions.set(key, record.position);
        }
      }
      const ms = record.timestampMs ?? m.timestampMs;
      if (ms !== this.eventMs) {
        this.eventMs = ms;
        this.eventTime = new Date(ms);
      }
      // The connector's own log position orders a key's changes across partitions; the broker
      // position only breaks ties (a resent copy). Without a source position, the broker's.
      const p = record.position;
      const parts = p.connector === 'broker' ? p.sortKey : [...p.sortKey, m.sequence];
      const origin: RowOrigin = { position: new PositionBase(parts), commitTime: this.eventTime };
      let change: ChangeMessage | undefined;
      try {
        change = changeFromRecord(record, table, origin, () => `${m.subject} ${describePosition(m)}`);
      } catch (error) {
        if (this.options.onInvalid === 'stop' || !(error instanceof CdcError)) throw error;
        this.deadLetter(m, error);
      }
      if (change) this.queue.push(change);
      this.subjectTables.set(m.subject, key);
      this.partitionPositions.set(partition, record.position);
    } else if (record?.kind === 'tombstone') {
      this.tombstone(m, record);
    }
    this.last.set(partition, m.sequence);
    this.touched.set(partition, m.sequence);
    this.messagesSinceBoundary++;
    if (!this.tracker.settled) this.abandonStale();
    if (this.tracker.settled) this.boundary();
  }

  /**
   * A keyed tombstone deletes its key's row (DESIGN.md §3.4; compacted topics, and the unwrap
   * transform's default `delete.tombstone.handling.mode=tombstone` sends deletes only so). Its
   * table is the one the subject's last change event went to, else `<…>.<schema>.<table>` of the
   * topic name, routed. It is ordered right after the last event read from its partition (its
   * source position, else the partition's stored watermark, with the tombstone's offset as
   * tie-break); without either, by its own partition and offset, as events without a source
   * position are. A tombstone without a key, or of a table not known (nothing of it in the
   * target), or without a primary key, only advances the position.
   */
  private tombstone(m: SourceMessage, record: DebeziumTombstoneRecord): void {
    const key = record.key;
    if (key === null || record.keyColumns.length === 0) return;
    const tableName = this.subjectTables.get(m.subject) ?? this.tableOfSubject(m);
    const table = tableName === undefined ? undefined : this.known.get(tableName);
    if (!table || table.primaryKey.length === 0) {
      this.log.debug({ subject: m.subject, position: describePosition(m) }, 'a tombstone of a table without a key, or not in the target: nothing to delete');
      return;
    }
    if (!table.primaryKey.every((k) => Object.hasOwn(key, k) && key[k] !== null)) {
      const error = new CdcError(
        'DEBEZIUM_EVENT_INVALID',
        `${m.subject} ${describePosition(m)}: a tombstone whose key (${record.keyColumns.map((c) => c.name).join(', ')}) lacks primary-key columns of ${tableName} (${table.primaryKey.join(', ')})`,
        { remedy: 'check the connector key configuration (message.key.columns) and debezium.keys' },
      );
      if (this.options.onInvalid === 'stop') throw error;
      this.deadLetter(m, error);
      return;
    }
    const partition = m.partition ?? '';
    const last = this.partitionPositions.get(partition) ?? this.watermarks.latest(partition);
    let parts: bigint[];
    if (last !== undefined && last.connector !== 'broker') parts = [...last.sortKey, m.sequence];
    else {
      const slash = partition.lastIndexOf('/');
      parts = [slash < 0 ? 0n : BigInt(partition.slice(slash + 1)), m.sequence];
    }
    const origin: RowOrigin = { position: new PositionBase(parts), commitTime: new Date(m.timestampMs) };
    this.queue.push(deleteFromKey(key, table, origin));
  }

  /** The target table of a topic named `<…>.<schema>.<table>` (Debezium's naming), routed. */
  private tableOfSubject(m: SourceMessage): string | undefined {
    const parts = m.subject.split('.');
    if (parts.length < 2) return undefined;
    const id = { schema: parts[parts.length - 2]!, name: parts[parts.length - 1]! };
    return tableKey(this.options.route ? this.options.route(id, m) : id);
  }

  /** Sets message `m` aside in the dead-letter table, with the error that stopped it. */
  private deadLetter(m: SourceMessage, error: CdcError): void {
    this.queue.push({ kind: 'dead-letter', entry: { topic: m.subject, brokerPosition: describePosition(m), key: m.key ?? null, value: m.data, error: error.message } });
    this.log.warn({ subject: m.subject, position: describePosition(m), code: error.code, error: error.message }, 'message set aside in the dead-letter table');
  }

  /** Queues a `commit` boundary with what moved since the previous one. */
  private boundary(): void {
    if (this.messagesSinceBoundary === 0) return;
    const positions: PartitionPosition[] = [];
    for (const [partition, position] of this.touched) positions.push(new BrokerPosition(partition, position));
    this.queue.push({
      kind: 'commit',
      positions,
      watermarks: this.watermarks.takeMoved(),
      transactions: this.transactionsSinceBoundary,
      messages: this.messagesSinceBoundary,
    });
    this.touched.clear();
    this.messagesSinceBoundary = 0;
    this.transactionsSinceBoundary = 0;
  }

  /** Lets go of the oldest incomplete transaction if it waited past the limit. */
  private abandonStale(): void {
    const oldest = this.tracker.oldest();
    if (!oldest || Date.now() - oldest.sinceMs < this.waitMs) return;
    this.log.warn(
      { transaction: oldest.id, seen: oldest.seen, expected: oldest.expected, waitedMs: Date.now() - oldest.sinceMs },
      'a source transaction stayed incomplete past the wait limit: ending the batch without its missing events (are all its tables and the transaction topic consumed?)',
    );
    this.tracker.abandon(oldest.id);
  }

  /** Lets go of every incomplete transaction (the run ends with what the broker holds). */
  private abandonAll(): void {
    for (let t = this.tracker.oldest(); t; t = this.tracker.oldest()) {
      this.log.warn({ transaction: t.id, seen: t.seen, expected: t.expected }, 'caught up inside an incomplete source transaction: merging what arrived of it');
      this.tracker.abandon(t.id);
    }
  }
}

/**
 * True when `shape` (an event's table shape) is an older shape of `known`, to be read in `known`
 * rather than applied to the target (issue 11: an older-shaped event from a lagging partition
 * never narrows or drops a column). It is when `shape` only narrows `known`: the same key, every
 * column of `shape` in `known` with the same type or one that widens to `known`'s and no looser
 * nullability, and fewer columns or some narrower type; and when its event is older than the
 * event that brought `known` (by the connector's position), or the two positions cannot be
 * compared. An event after `known`'s position brings a real schema change (a column dropped or
 * narrowed on the source) and is applied, under the sink's schema-change policy.
 * `knownPosition` may be an upper bound of that event's position (after a restart: the highest
 * stored watermark); undefined when not even that is known.
 */
export function olderShape(known: TableSchema, shape: TableSchema, position: SourcePosition, knownPosition: SourcePosition | undefined): boolean {
  if (shape.primaryKey.length !== known.primaryKey.length || shape.primaryKey.some((k, i) => k !== known.primaryKey[i])) return false;
  const byName = new Map(known.columns.map((c) => [c.name, c]));
  let narrower = shape.columns.length < known.columns.length;
  for (const c of shape.columns) {
    const k = byName.get(c.name);
    if (!k) return false;
    if (c.type !== k.type) {
      if (!isWideningTypeChange(c.type, k.type)) return false;
      narrower = true;
    }
    if (c.nullable && !k.nullable) return false;
    if (!c.nullable && k.nullable) narrower = true;
  }
  if (!narrower) return false;
  // Broker positions (events without a source block) are offsets of different partitions.
  if (knownPosition === undefined || position.connector === 'broker' || knownPosition.connector === 'broker') return true;
  try {
    return compareSourcePositions(position, knownPosition) < 0;
  } catch {
    return true;
  }
}
