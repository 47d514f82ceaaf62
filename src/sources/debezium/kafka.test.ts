import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import { KafkaTransport, kafkaPartition, kafkaTransactionBoundaries, parseKafkaPartition, selectTopics } from './kafka.js';

describe('Kafka source partitions', () => {
  it('names a partition topic/partition and parses it back, dots and slashes in topics included', () => {
    expect(kafkaPartition('dbserver1.inventory.orders', 3)).toBe('dbserver1.inventory.orders/3');
    expect(parseKafkaPartition('a/b.c/12')).toEqual({ topic: 'a/b.c', partition: 12 });
    expect(() => parseKafkaPartition('orders')).toThrow(/not a Kafka source partition/);
    expect(() => parseKafkaPartition('orders/x')).toThrow(/not a Kafka source partition/);
  });
});

describe('selectTopics', () => {
  const available = ['dbz.public.a', 'dbz.public.b', 'dbz.transaction', 'other.x', '__consumer_offsets'];
  it('takes listed topics and the pattern matches, sorted, once each', () => {
    expect(selectTopics({ brokers: ['k:9092'], topics: ['dbz.public.b'], topicPattern: '^dbz\\.' }, available)).toEqual(['dbz.public.a', 'dbz.public.b', 'dbz.transaction']);
    expect(selectTopics({ brokers: ['k:9092'], topics: ['t1'] }, [])).toEqual(['t1']);
  });
  it('refuses a bad pattern and an empty selection with what to do', () => {
    expect(() => selectTopics({ brokers: ['k:9092'], topicPattern: '(' }, available)).toThrow(/topic_pattern "\(" is not a regular expression/);
    try {
      selectTopics({ brokers: ['k:9092'], topicPattern: '^nomatch' }, available);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CdcError);
      expect((error as CdcError).code).toBe('TOPIC_NOT_FOUND');
      expect((error as CdcError).message).toContain('none matches "^nomatch"');
    }
  });
});

describe('kafkaTransactionBoundaries', () => {
  it('keeps no boundary without the transaction topic', () => {
    expect(kafkaTransactionBoundaries(['dbz.public.a'])).toBeUndefined();
  });
  it('knows the tables consumed by their topic names', () => {
    const b = kafkaTransactionBoundaries(['dbz.public.a', 'dbz.transaction'])!;
    expect(b.mode).toBe('event-count');
    expect(b.consumes?.('public.a')).toBe(true);
    expect(b.consumes?.('public.b')).toBe(false);
  });
});

describe('KafkaTransport.open', () => {
  it('fails with CONNECTION_FAILED, naming the brokers, when nothing speaks Kafka there', async () => {
    // A port that accepts and at once closes connections: a broker that is not one.
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const error = await KafkaTransport.open({ brokers: [`127.0.0.1:${port}`], groupId: 'g', topics: ['t'], clientId: 'test' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CdcError);
      expect((error as CdcError).code).toBe('CONNECTION_FAILED');
      expect((error as CdcError).message).toContain(`127.0.0.1:${port}`);
    } finally {
      server.close();
    }
  }, 60_000);
});
