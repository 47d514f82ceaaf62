/**
 * The JetStream transport against a real nats-server with JetStream (a throwaway one): stream
 * order, acknowledgement after commit, and a restart that starts after the merged position
 * whatever the consumer had delivered.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayNats, type ThrowawayNats } from '../../testing/throwaway-nats.js';
import { JetStreamTransport } from './jetstream.js';

let nats: ThrowawayNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startThrowawayNats({ label: 'transport' });
  nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'shop', subjects: ['shop.>'] });
  const js = jetstream(nc);
  for (let i = 1; i <= 25; i++) await js.publish(`shop.public.t${i % 3}`, new TextEncoder().encode(JSON.stringify({ i })));
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

const numbers = (ms: { data: Uint8Array | null }[]) => ms.map((m) => (JSON.parse(new TextDecoder().decode(m.data)) as { i: number }).i);

describe('JetStream transport', () => {
  it('delivers in stream order, and a restart starts right after the merged position', async () => {
    const first = await JetStreamTransport.open({ url: nats.url, stream: 'shop', durable: 'cdc' });
    const batch: Awaited<ReturnType<JetStreamTransport['fetch']>> = [];
    while (batch.length < 10) batch.push(...(await first.fetch(10 - batch.length, 1000)));
    expect(numbers(batch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(batch.map((m) => m.sequence)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
    expect(batch[0]!.subject).toBe('shop.public.t1');
    await first.acknowledge(new Map([['', 6n]]));
    const info = await (await jetstreamManager(nc)).consumers.info('shop', 'cdc');
    expect(info.ack_floor.stream_seq).toBe(6);
    // Crash: 7…10 were delivered but never merged. The target says 6 was the last merged.
    await first.close();
    const second = await JetStreamTransport.open({ url: nats.url, stream: 'shop', durable: 'cdc', after: 6n });
    const rest: { data: Uint8Array | null }[] = [];
    for (let got = await second.fetch(100, 1000); got.length > 0; got = await second.fetch(100, 200)) rest.push(...got);
    expect(numbers(rest)).toEqual(Array.from({ length: 19 }, (_, k) => k + 7));
    await second.close();
  });

  it('on an interest-retention stream, re-creating a consumer that delivered past the target loses nothing', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'held', subjects: ['held.>'], retention: RetentionPolicy.Interest });
    const js = jetstream(nc);
    const first = await JetStreamTransport.open({ url: nats.url, stream: 'held', durable: 'cdc' });
    for (let i = 1; i <= 5; i++) await js.publish('held.x', new TextEncoder().encode(JSON.stringify({ i })));
    const got: { data: Uint8Array | null }[] = [];
    while (got.length < 5) got.push(...(await first.fetch(5 - got.length, 1000)));
    await first.acknowledge(new Map([['', 2n]]));
    // Crash: 3…5 were delivered, never merged; two more arrive while stopped.
    await first.close();
    for (let i = 6; i <= 7; i++) await js.publish('held.x', new TextEncoder().encode(JSON.stringify({ i })));
    const second = await JetStreamTransport.open({ url: nats.url, stream: 'held', durable: 'cdc', after: 2n });
    const rest: { data: Uint8Array | null }[] = [];
    for (let more = await second.fetch(100, 1000); more.length > 0; more = await second.fetch(100, 200)) rest.push(...more);
    expect(numbers(rest)).toEqual([3, 4, 5, 6, 7]);
    await second.acknowledge(new Map([['', 7n]]));
    await second.close();
    // Only the durable is left (the temporary holder is gone), and the stream let go of what it acknowledged.
    expect((await jsm.consumers.list('held').next()).map((c) => c.name)).toEqual(['cdc']);
    await new Promise((r) => setTimeout(r, 100));
    expect((await jsm.streams.info('held')).state.messages).toBe(0);
  });

  it('keeps a bounded pending-ack list however much is fetched unmerged, and its acks still land', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'many', subjects: ['many.>'] });
    const js = jetstream(nc);
    const payload = new TextEncoder().encode('x'.repeat(1000));
    await Promise.all(Array.from({ length: 3000 }, () => js.publish('many.x', payload)));
    const t = await JetStreamTransport.open({ url: nats.url, stream: 'many', durable: 'cdc', ackCarriers: 32 });
    let fetched = 0;
    while (fetched < 3000) {
      fetched += (await t.fetch(500, 2000)).length;
      expect(t.unacknowledgedCarriers).toBeLessThanOrEqual(32);
    }
    // A merged sequence between carriers: acknowledged up to a carrier at or below it.
    await t.acknowledge(new Map([['', 1500n]]));
    const floor = (await jsm.consumers.info('many', 'cdc')).ack_floor.stream_seq;
    expect(floor).toBeLessThanOrEqual(1500);
    expect(floor).toBeGreaterThan(1500 - 2 * (3000 / 32));
    // Everything merged: the ack is exact.
    await t.acknowledge(new Map([['', 3000n]]));
    expect((await jsm.consumers.info('many', 'cdc')).ack_floor.stream_seq).toBe(3000);
    expect(t.unacknowledgedCarriers).toBe(0);
    await t.close();
  }, 60_000);

  it('names a missing stream and an unreachable server', async () => {
    await expect(JetStreamTransport.open({ url: nats.url, stream: 'nope', durable: 'cdc' })).rejects.toThrow(/no JetStream stream "nope"/);
    await expect(JetStreamTransport.open({ url: 'nats://127.0.0.1:1', stream: 'shop', durable: 'cdc' })).rejects.toThrow(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});
