/**
 * Source transaction boundaries for message sources (DESIGN.md §3.3), from Debezium's
 * transaction metadata (`provide.transaction.metadata=true`): BEGIN and END events, and the
 * `transaction` block every change event then carries.
 *
 * Two ways to know that a transaction is complete, by how the broker orders events:
 * - `stream-order`: one totally ordered stream (a NATS JetStream stream holding the data subjects
 *   and the transaction subject). Everything between BEGIN and END belongs to the transaction, so
 *   END completes it.
 * - `event-count`: events spread over topics and partitions (Kafka: the transaction topic is a
 *   topic of its own). END may arrive before or after the change events, so a transaction is
 *   complete once END arrived and, for each consumed table END names (its `data_collections`),
 *   as many change events of that table as END counts. A change event's table is the one in its
 *   source block, not its topic: a router (Debezium's topic routing SMT) may put events on
 *   topics that do not name their table. A table counts as consumed when the framing says so
 *   (its topic `<prefix>.<data collection>` is read) or once one of its events has been read.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-transaction-metadata
 */
import type { DebeziumTransactionRecord } from '../../events/debezium/index.js';

/** How a transaction's completeness is decided (see the module comment). */
export type TransactionBoundaryMode = 'stream-order' | 'event-count';

/** How a broker's events say where source transactions end. */
export interface TransactionFraming {
  readonly mode: TransactionBoundaryMode;
  /**
   * `event-count` only: true when the pipeline reads the change events of a data collection as
   * END names it (`schema.table`, MySQL `db.table`, SQL Server `db.schema.table`), by its topic
   * (default: every collection). A collection whose events were read in this run counts anyway.
   */
  readonly consumes?: (dataCollection: string) => boolean;
}

/** A transaction that holds the open batch. */
export interface OpenTransaction {
  /** Its key ({@link transactionKey}: the `txId` for PostgreSQL). */
  readonly id: string;
  /** Change events read. */
  readonly seen: number;
  /** Change events END announced for the consumed tables (undefined before END). */
  readonly expected: number | undefined;
  /** When the first of its events was read (ms since epoch). */
  readonly sinceMs: number;
}

/** Completed transaction ids remembered. */
const DONE_REMEMBERED = 10_000;

interface State {
  seen: number;
  /** Change events read, by their table (`schema.table` of the source block). */
  readonly byTable: Map<string, number>;
  /** The END event, once read. */
  end: DebeziumTransactionRecord | undefined;
  sinceMs: number;
}

/** True when END's data collection `collection` names the table `table` (`schema.table`). */
function namesTable(collection: string, table: string): boolean {
  return collection === table || collection.endsWith(`.${table}`);
}

/**
 * The key that names transaction `id` in every event of it. Debezium's PostgreSQL connector forms
 * ids as `txId:LSN` with the LSN of the event itself, so BEGIN, each change event and END of one
 * transaction carry different ids (`729:30730568`, `729:30730680`, …, END `729:30730776`, seen
 * from Debezium 3.6.1 with pgoutput): the `txId` alone is the key. (A txId repeats only after
 * 2^32 transactions, far beyond the tracker's wait limit.) Other connectors' ids (a MySQL GTID
 * `uuid:n`, SQL Server's `hex:hex:hex`, Oracle's hex) are the same in every event and are used
 * whole.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-transaction-metadata
 */
export function transactionKey(id: string): string {
  const pg = /^(\d+):\d+$/.exec(id);
  return pg ? pg[1]! : id;
}

/**
 * Tracks the transactions whose events were read but which are not complete; a batch may end
 * only when none is ({@link settled}).
 */
export class TransactionTracker {
  private readonly open = new Map<string, State>();
  /** Recently completed ids (bounded), so that a stray late event does not reopen one. */
  private readonly done = new Set<string>();
  /** Tables (`schema.table`) whose change events were read in this run. */
  private readonly tables = new Set<string>();

  /**
   * @param mode see {@link TransactionBoundaryMode}.
   * @param consumes `event-count` only: see {@link TransactionFraming.consumes} (default: every
   *   data collection is consumed).
   */
  constructor(
    private readonly mode: TransactionBoundaryMode,
    private readonly consumes: (dataCollection: string) => boolean = () => true,
  ) {}

  /** True when no transaction is incomplete: a batch may end here. */
  get settled(): boolean {
    return this.open.size === 0;
  }

  /** A BEGIN event of transaction `id` (as the event carries it; see {@link transactionKey}). */
  begin(id: string, nowMs: number): void {
    this.state(transactionKey(id), nowMs);
  }

  /** A change event of table `table` (`schema.table` of its source block) was read: the table is consumed. */
  read(table: string): void {
    if (this.mode === 'event-count') this.tables.add(table);
  }

  /**
   * A change event carrying the `transaction` block of transaction `id`, of table `table`
   * (`schema.table` of its source block). In `stream-order` mode only BEGIN opens a transaction
   * (the transaction subject may be filtered out, and then no boundary is kept).
   */
  change(eventId: string, nowMs: number, table?: string): void {
    const id = transactionKey(eventId);
    if (this.mode === 'stream-order') {
      const s = this.open.get(id);
      if (s) s.seen++;
      return;
    }
    if (table !== undefined) this.read(table);
    if (this.done.has(id)) return;
    const s = this.state(id, nowMs);
    s.seen++;
    if (table !== undefined) s.byTable.set(table, (s.byTable.get(table) ?? 0) + 1);
    this.settle(id, s);
  }

  /** An END event. */
  end(record: DebeziumTransactionRecord, nowMs: number): void {
    const id = transactionKey(record.id);
    if (this.mode === 'stream-order') {
      this.open.delete(id);
      return;
    }
    const s = this.state(id, nowMs);
    s.end = record;
    this.settle(id, s);
  }

  /** The incomplete transaction read first, if any. */
  oldest(): OpenTransaction | undefined {
    for (const [id, s] of this.open) return { id, seen: s.seen, expected: this.expected(s), sinceMs: s.sinceMs };
    return undefined;
  }

  /** True when the pipeline reads data collection `collection` (see {@link TransactionFraming.consumes}). */
  private counted(collection: string): boolean {
    if (this.consumes(collection)) return true;
    for (const t of this.tables) if (namesTable(collection, t)) return true;
    return false;
  }

  /** Change events of `collection` read for transaction state `s`. */
  private seenOf(s: State, collection: string): number {
    let n = 0;
    for (const [t, count] of s.byTable) if (namesTable(collection, t)) n += count;
    return n;
  }

  /** The change events END announced for the consumed tables (undefined before END). */
  private expected(s: State): number | undefined {
    if (!s.end) return undefined;
    if (!s.end.dataCollections) return s.end.eventCount;
    let n = 0;
    for (const c of s.end.dataCollections) if (this.counted(c.dataCollection)) n += c.eventCount;
    return n;
  }

  /** True when END arrived and every event it announced for the consumed tables. */
  private complete(s: State): boolean {
    if (!s.end) return false;
    const collections = s.end.dataCollections;
    if (!collections) return s.end.eventCount === undefined || s.seen >= s.end.eventCount;
    return collections.every((c) => !this.counted(c.dataCollection) || this.seenOf(s, c.dataCollection) >= c.eventCount);
  }

  /** Stops waiting for transaction `id` (a key from {@link oldest}; its missing events never came within the wait limit). */
  abandon(id: string): void {
    this.open.delete(id);
  }

  private state(id: string, nowMs: number): State {
    let s = this.open.get(id);
    if (!s) {
      s = { seen: 0, byTable: new Map(), end: undefined, sinceMs: nowMs };
      this.open.set(id, s);
    }
    return s;
  }

  private settle(id: string, s: State): void {
    if (!this.complete(s)) return;
    this.open.delete(id);
    this.done.add(id);
    if (this.done.size > DONE_REMEMBERED) this.done.delete(this.done.values().next().value as string);
  }
}
