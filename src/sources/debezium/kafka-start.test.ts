import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import { checkKafkaStart, kafkaStartOffsets, type KafkaPartitionFacts } from './kafka-start.js';

const context = { groupId: 'shop', brokers: ['k1:9092', 'k2:9092'], pipeline: 'shop' };
const p = (f: Partial<KafkaPartitionFacts>): KafkaPartitionFacts => ({ topic: 'dbz.public.t', partition: 0, logStart: 0n, logEnd: 100n, ...f });

function error(partitions: KafkaPartitionFacts[]): CdcError {
  try {
    checkKafkaStart(partitions, context);
  } catch (e) {
    expect(e).toBeInstanceOf(CdcError);
    return e as CdcError;
  }
  throw new Error('no error');
}

describe('checkKafkaStart', () => {
  it('lets a start through that skips nothing the target lacks', () => {
    expect(() =>
      checkKafkaStart(
        [
          p({ merged: 41n, committed: 42n, logStart: 10n }), // the usual restart
          p({ partition: 1, merged: 41n, committed: 30n }), // a lost group commit: re-read, skipped
          p({ partition: 2, merged: 41n, logStart: 42n }), // retention right up to the next offset
          p({ partition: 3, logStart: 7n }), // never merged, never committed: read from the start
          p({ partition: 4, merged: 99n, logEnd: 100n }), // merged everything
        ],
        context,
      ),
    ).not.toThrow();
  });

  it('stops with BROKER_RETENTION_GAP when the log starts past the target\'s next offset, naming the offsets and the way out', () => {
    const e = error([p({ merged: 41n, committed: 42n, logStart: 50n }), p({ partition: 1, merged: 3n, logStart: 0n })]);
    expect(e.code).toBe('BROKER_RETENTION_GAP');
    expect(e.message).toContain('dbz.public.t/0: the target merged up to offset 41, the log starts at 50 (offsets 42 to 49 are gone)');
    expect(e.message).not.toContain('dbz.public.t/1');
    expect(e.remedy).toContain('new snapshot');
    expect(e.remedy).toContain("UPDATE cdc_management.offsets SET position = 49 WHERE pipeline = 'shop' AND source_partition = 'dbz.public.t/0'");
  });

  it('stops with KAFKA_GROUP_AHEAD when the group committed past the target, with the reset command', () => {
    const e = error([p({ merged: 41n, committed: 60n }), p({ partition: 1, committed: 5n, logStart: 2n })]);
    expect(e.code).toBe('KAFKA_GROUP_AHEAD');
    expect(e.message).toContain('dbz.public.t/0: the group committed offset 60, the target merged up to 41');
    expect(e.message).toContain('dbz.public.t/1: the group committed offset 5, the target merged nothing of it');
    expect(e.remedy).toContain('kafka-consumer-groups.sh --bootstrap-server k1:9092,k2:9092 --group shop --reset-offsets --topic dbz.public.t:0 --to-offset 42 --topic dbz.public.t:1 --to-offset 2 --execute');
  });

  it('stops with BROKER_TARGET_AHEAD when the target merged offsets the partition never reached', () => {
    const e = error([p({ merged: 500n, logEnd: 20n })]);
    expect(e.code).toBe('BROKER_TARGET_AHEAD');
    expect(e.message).toContain('dbz.public.t/0 merged up to offset 500, but its log ends at 20');
  });

  it('names five partitions and counts the rest', () => {
    const e = error(Array.from({ length: 8 }, (_, i) => p({ partition: i, merged: 1n, logStart: 10n })));
    expect(e.message).toContain('… (8 partitions)');
  });
});

describe('kafkaStartOffsets', () => {
  it("starts after the target's merged offset whatever the group committed, and at the log start where the target merged nothing", () => {
    expect(
      kafkaStartOffsets([
        p({ merged: 41n, committed: 42n, logStart: 10n }),
        // The group is behind the target and below the log start: the gap was accepted with
        // UPDATE cdc_management.offsets (the BROKER_RETENTION_GAP remedy). Fetching from the group's
        // offset failed with OFFSET_OUT_OF_RANGE on every retry on a real broker.
        p({ partition: 1, merged: 3n, committed: 2n, logStart: 4n }),
        p({ partition: 2, logStart: 7n }),
        p({ partition: 3, committed: 5n, logStart: 7n }),
      ]),
    ).toEqual([
      { topic: 'dbz.public.t', partition: 0, offset: 42n },
      { topic: 'dbz.public.t', partition: 1, offset: 4n },
      { topic: 'dbz.public.t', partition: 2, offset: 7n },
      { topic: 'dbz.public.t', partition: 3, offset: 7n },
    ]);
  });
});
