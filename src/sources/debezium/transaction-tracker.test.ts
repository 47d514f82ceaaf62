import { describe, expect, it } from 'vitest';
import { TransactionTracker, transactionKey } from './transaction-tracker.js';

const end = (id: string, eventCount: number) => ({ kind: 'transaction' as const, status: 'END' as const, id, eventCount });

describe('TransactionTracker', () => {
  it('stream-order: BEGIN opens, END closes, whatever the counts', () => {
    const t = new TransactionTracker('stream-order');
    expect(t.settled).toBe(true);
    t.begin('1', 0);
    t.change('1', 0);
    expect(t.settled).toBe(false);
    t.end(end('1', 5), 0);
    expect(t.settled).toBe(true);
  });

  it('stream-order: change events without a BEGIN keep nothing open (transaction subject filtered out)', () => {
    const t = new TransactionTracker('stream-order');
    t.change('9', 0);
    expect(t.settled).toBe(true);
  });

  it('event-count: complete once END arrived and its events, in any order', () => {
    const t = new TransactionTracker('event-count');
    t.change('a', 10);
    expect(t.settled).toBe(false);
    t.end(end('a', 3), 11);
    expect(t.settled).toBe(false);
    expect(t.oldest()).toEqual({ id: 'a', seen: 1, expected: 3, sinceMs: 10 });
    t.change('a', 12);
    t.change('a', 13);
    expect(t.settled).toBe(true);
    // A stray late event of a completed transaction does not reopen it.
    t.change('a', 14);
    expect(t.settled).toBe(true);
  });

  it('event-count: END first, then the events', () => {
    const t = new TransactionTracker('event-count');
    t.begin('b', 0);
    t.end(end('b', 2), 0);
    expect(t.settled).toBe(false);
    t.change('b', 0);
    t.change('b', 0);
    expect(t.settled).toBe(true);
  });

  it('event-count: counts only what the pipeline reads, and abandon stops waiting', () => {
    const t = new TransactionTracker('event-count', (c) => c === 'public.a');
    t.change('c', 0, 'public.a');
    t.end({ ...end('c', 4), dataCollections: [{ dataCollection: 'public.a', eventCount: 1 }, { dataCollection: 'public.b', eventCount: 3 }] }, 0);
    expect(t.settled).toBe(true);
    t.change('d', 0);
    expect(t.settled).toBe(false);
    t.abandon('d');
    expect(t.settled).toBe(true);
  });

  it('event-count: counts each table of END by the table of its events, not by topic', () => {
    // No topic names a table (a router renamed them): nothing is known consumed by name.
    const t = new TransactionTracker('event-count', () => false);
    t.change('x', 0, 'public.a'); // an earlier event of public.a: the table is read
    t.change('x', 0, 'public.a');
    t.end({ ...end('x', 2), dataCollections: [{ dataCollection: 'public.a', eventCount: 2 }] }, 0);
    expect(t.settled).toBe(true);
    t.end({ ...end('e', 5), dataCollections: [{ dataCollection: 'public.a', eventCount: 2 }, { dataCollection: 'public.zzz', eventCount: 3 }] }, 1);
    expect(t.oldest()).toEqual({ id: 'e', seen: 0, expected: 2, sinceMs: 1 });
    t.change('e', 2, 'public.a');
    expect(t.settled).toBe(false);
    t.change('e', 3, 'public.a');
    expect(t.settled).toBe(true); // public.zzz was never read: not waited for
    // SQL Server names collections db.schema.table; the events' source block gives schema.table.
    const s = new TransactionTracker('event-count');
    s.end({ ...end('f', 1), dataCollections: [{ dataCollection: 'testDB.dbo.orders', eventCount: 1 }] }, 0);
    s.change('f', 0, 'dbo.orders');
    expect(s.settled).toBe(true);
  });

  // Regression (issue 15, first run against the real Debezium 3.6.1 PostgreSQL connector): its
  // ids are `txId:LSN` with each event's own LSN, so BEGIN, the change events and END of one
  // transaction differ, and keyed by the whole id no transaction ever completed.
  it('PostgreSQL: BEGIN, change events and END with different LSNs are one transaction', () => {
    for (const mode of ['event-count', 'stream-order'] as const) {
      const t = new TransactionTracker(mode);
      t.begin('733:30731248', 0);
      t.change('733:30731408', 0, 'public.accounts');
      t.change('733:30731568', 0, 'public.audit_log');
      expect(t.settled).toBe(false);
      expect(t.oldest()?.id).toBe('733');
      t.end({ ...end('733:30733144', 2), dataCollections: [{ dataCollection: 'public.accounts', eventCount: 1 }, { dataCollection: 'public.audit_log', eventCount: 1 }] }, 0);
      expect(t.settled, mode).toBe(true);
    }
  });

  it('transactionKey: the txId of a PostgreSQL id, any other id whole', () => {
    expect(transactionKey('571:53195829')).toBe('571');
    expect(transactionKey('3E11FA47-71CA-11E1-9E33-C80AA9429562:23')).toBe('3E11FA47-71CA-11E1-9E33-C80AA9429562:23');
    expect(transactionKey('00000025:00000d08:0025')).toBe('00000025:00000d08:0025');
    expect(transactionKey('0a001b00e2010000')).toBe('0a001b00e2010000');
  });
});
