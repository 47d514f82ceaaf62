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
 *   complete once END arrived and as many of its change events as END counts for the consumed
 *   tables.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-transaction-metadata
 */
import type { DebeziumTransactionRecord } from '../../events/debezium/index.js';

/** How a transaction's completeness is decided (see the module comment). */
export type TransactionBoundaryMode = 'stream-order' | 'event-count';

/** How a broker's events say where source transactions end. */
export interface TransactionFraming {
  readonly mode: TransactionBoundaryMode;
  /**
   * `event-count` only: how many change events of an END event the pipeline will read (default:
   * its `event_count`).
   */
  readonly expectedEvents?: (end: DebeziumTransactionRecord) => number | undefined;
}

/** A transaction that holds the open batch. */
export interface OpenTransaction {
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
  expected: number | undefined;
  ended: boolean;
  sinceMs: number;
}

/**
 * Tracks the transactions whose events were read but which are not complete; a batch may end
 * only when none is ({@link settled}).
 */
export class TransactionTracker {
  private readonly open = new Map<string, State>();
  /** Recently completed ids (bounded), so that a stray late event does not reopen one. */
  private readonly done = new Set<string>();

  /**
   * @param mode see {@link TransactionBoundaryMode}.
   * @param expectedEvents `event-count` only: how many change events of an END event the
   *   pipeline will read (default: its `event_count`). Give the sum over the tables actually
   *   consumed when not every table of the connector is.
   */
  constructor(
    private readonly mode: TransactionBoundaryMode,
    private readonly expectedEvents: (end: DebeziumTransactionRecord) => number | undefined = (end) => end.eventCount,
  ) {}

  /** True when no transaction is incomplete: a batch may end here. */
  get settled(): boolean {
    return this.open.size === 0;
  }

  /** A BEGIN event. */
  begin(id: string, nowMs: number): void {
    this.state(id, nowMs);
  }

  /**
   * A change event carrying the `transaction` block of transaction `id`. In `stream-order` mode
   * only BEGIN opens a transaction (the transaction subject may be filtered out, and then no
   * boundary is kept).
   */
  change(id: string, nowMs: number): void {
    if (this.mode === 'stream-order') {
      const s = this.open.get(id);
      if (s) s.seen++;
      return;
    }
    if (this.done.has(id)) return;
    const s = this.state(id, nowMs);
    s.seen++;
    this.settle(id, s);
  }

  /** An END event. */
  end(record: DebeziumTransactionRecord, nowMs: number): void {
    if (this.mode === 'stream-order') {
      this.open.delete(record.id);
      return;
    }
    const s = this.state(record.id, nowMs);
    s.ended = true;
    s.expected = this.expectedEvents(record);
    this.settle(record.id, s);
  }

  /** The incomplete transaction read first, if any. */
  oldest(): OpenTransaction | undefined {
    for (const [id, s] of this.open) return { id, seen: s.seen, expected: s.expected, sinceMs: s.sinceMs };
    return undefined;
  }

  /** Stops waiting for transaction `id` (its missing events never came within the wait limit). */
  abandon(id: string): void {
    this.open.delete(id);
  }

  private state(id: string, nowMs: number): State {
    let s = this.open.get(id);
    if (!s) {
      s = { seen: 0, expected: undefined, ended: false, sinceMs: nowMs };
      this.open.set(id, s);
    }
    return s;
  }

  private settle(id: string, s: State): void {
    if (!s.ended || (s.expected !== undefined && s.seen < s.expected)) return;
    this.open.delete(id);
    this.done.add(id);
    if (this.done.size > DONE_REMEMBERED) this.done.delete(this.done.values().next().value as string);
  }
}
