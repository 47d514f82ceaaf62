import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import { planJetStreamStart, type JetStreamStartFacts } from './jetstream.js';

const facts = (f: Partial<JetStreamStartFacts>): JetStreamStartFacts => ({
  stream: 'dbz',
  after: 10n,
  firstSeq: 1,
  lastSeq: 20,
  messages: 20,
  removedOnlyByAcks: false,
  pipeline: 'p',
  ...f,
});
const consumer = { compatible: true, delivered: 10, ackFloor: 10, ackPending: 0 };

function error(f: JetStreamStartFacts): CdcError {
  try {
    planJetStreamStart(f);
  } catch (e) {
    expect(e).toBeInstanceOf(CdcError);
    return e as CdcError;
  }
  throw new Error('no error');
}

describe('planJetStreamStart', () => {
  it('keeps a durable that handed out nothing past the target and waits for no acknowledgement', () => {
    expect(planJetStreamStart(facts({ consumer }))).toEqual({ consumer: 'keep' });
    expect(planJetStreamStart(facts({ consumer: { ...consumer, delivered: 7, ackFloor: 7 } }))).toEqual({ consumer: 'keep' }); // 8…10 come again and are skipped
    expect(planJetStreamStart(facts({}))).toEqual({ consumer: 'create' });
  });
  it('re-creates it when it delivered past the target, waits for acknowledgements, or has other settings', () => {
    expect(planJetStreamStart(facts({ consumer: { ...consumer, delivered: 15 } }))).toEqual({ consumer: 'reposition' });
    expect(planJetStreamStart(facts({ consumer: { ...consumer, ackFloor: 8, ackPending: 2 } }))).toEqual({ consumer: 'reposition' });
    expect(planJetStreamStart(facts({ consumer: { ...consumer, compatible: false } }))).toEqual({ consumer: 'reposition' });
  });
  it('stops when the stream lost messages after the target position, naming both sequences and the way out', () => {
    const e = error(facts({ firstSeq: 14 }));
    expect(e.code).toBe('BROKER_RETENTION_GAP');
    expect(e.message).toContain('merged up to seq 10, the first message the stream holds is seq 14; seq 11 to 13 were removed');
    expect(e.remedy).toContain("UPDATE cdc_management.offsets SET position = 13 WHERE pipeline = 'p'");
    expect(error(facts({ firstSeq: 12 })).message).toContain('seq 11 were removed');
    // A purge of everything: first = last + 1.
    expect(error(facts({ firstSeq: 21, lastSeq: 20, messages: 0 })).code).toBe('BROKER_RETENTION_GAP');
    expect(planJetStreamStart(facts({ firstSeq: 11 }))).toEqual({ consumer: 'create' });
    expect(planJetStreamStart(facts({ after: 20n, firstSeq: 21, messages: 0 }))).toEqual({ consumer: 'create' });
  });
  it('on interest retention without limits, its own durable vouches that nothing of its subjects was removed', () => {
    const held = facts({ firstSeq: 14, removedOnlyByAcks: true, consumer });
    expect(planJetStreamStart(held)).toEqual({ consumer: 'keep' });
    expect(error({ ...held, consumer: { ...consumer, ackFloor: 12, delivered: 12 } }).code).toBe('BROKER_RETENTION_GAP'); // it acknowledged 11, 12: gone
    expect(error({ ...held, removedOnlyByAcks: false }).code).toBe('BROKER_RETENTION_GAP');
  });
  it('stops when the stream ends before the target position (re-created)', () => {
    const e = error(facts({ after: 500n, lastSeq: 20 }));
    expect(e.code).toBe('BROKER_TARGET_AHEAD');
    expect(e.message).toContain('up to seq 500, but the stream ends at seq 20');
  });
});
