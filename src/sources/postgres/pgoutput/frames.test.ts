import { describe, expect, it } from 'vitest';
import { decodePgoutputMessage } from './decode.js';
import {
  dateToPgMicros,
  decodeReplicationFrame,
  encodeStandbyStatusUpdate,
  pgMicrosToDate,
  STANDBY_STATUS_UPDATE_LENGTH,
} from './frames.js';
import { ProtocolError } from './reader.js';

/** Test-only encoder for frame layouts: a type character followed by big-endian fields. */
function frame(type: string, ...fields: (bigint | number | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(type, 'latin1')];
  for (const f of fields) {
    if (Buffer.isBuffer(f)) parts.push(f);
    else if (typeof f === 'number') parts.push(Buffer.from([f])); // Byte1
    else {
      const b = Buffer.alloc(8);
      if (f < 0n) b.writeBigInt64BE(f);
      else b.writeBigUInt64BE(f);
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  return undefined;
}

const ABOVE_2_32 = (1n << 32n) + 0x1234n;
const NEAR_2_63 = (1n << 63n) - 2n;
const MAX_LSN = (1n << 64n) - 1n;
const NOW = 800_000_000_123_456n; // 2025-05-08T06:13:20.123456Z, microseconds since 2000-01-01

describe('decodeReplicationFrame', () => {
  const begin = Buffer.concat([frame('B', ABOVE_2_32, NOW), Buffer.from([0, 0, 0, 7])]);
  const xlog = frame('w', ABOVE_2_32, NEAR_2_63, NOW, begin);

  it('decodes XLogData and exposes the pgoutput payload', () => {
    const f = decodeReplicationFrame(xlog);
    expect(f).toEqual({
      kind: 'xlogdata',
      walStart: ABOVE_2_32,
      walEnd: NEAR_2_63,
      sendTimeMicros: NOW,
      data: begin,
    });
    if (f.kind !== 'xlogdata') throw new Error('not xlogdata');
    expect(decodePgoutputMessage(f.data)).toMatchObject({ kind: 'begin', finalLsn: ABOVE_2_32, xid: 7 });
  });

  it('decodes XLogData with an empty payload and LSNs above 2^63', () => {
    expect(decodeReplicationFrame(frame('w', MAX_LSN, MAX_LSN, -5n))).toEqual({
      kind: 'xlogdata',
      walStart: MAX_LSN,
      walEnd: MAX_LSN,
      sendTimeMicros: -5n,
      data: Buffer.alloc(0),
    });
  });

  it('XLogData cut inside its 25-byte header throws PGOUTPUT_TRUNCATED (the payload is the rest)', () => {
    for (let cut = 0; cut < 25; cut++) {
      const code = errorCode(() => decodeReplicationFrame(xlog.subarray(0, cut)));
      expect(code, `cut ${cut}`).toBe('PGOUTPUT_TRUNCATED');
    }
  });

  it.each([
    [true, 1],
    [false, 0],
  ])('decodes a primary keepalive with replyRequested=%s', (replyRequested, byte) => {
    expect(decodeReplicationFrame(frame('k', NEAR_2_63, NOW, byte))).toEqual({
      kind: 'keepalive',
      walEnd: NEAR_2_63,
      sendTimeMicros: NOW,
      replyRequested,
    });
  });

  it('keepalive: every strict prefix is truncated, extra bytes are trailing', () => {
    const k = frame('k', ABOVE_2_32, NOW, 0);
    expect(k.length).toBe(18);
    for (let cut = 0; cut < k.length; cut++) {
      expect(errorCode(() => decodeReplicationFrame(k.subarray(0, cut))), `cut ${cut}`).toBe('PGOUTPUT_TRUNCATED');
    }
    expect(errorCode(() => decodeReplicationFrame(Buffer.concat([k, Buffer.from([0])])))).toBe(
      'PGOUTPUT_TRAILING_BYTES',
    );
  });

  it.each(['r', 'd', 'B', '\u0000'])('rejects frame type %j', (type) => {
    expect(errorCode(() => decodeReplicationFrame(frame(type, 0n, 0n, 0)))).toBe('PGOUTPUT_UNKNOWN_MESSAGE');
  });
});

describe('encodeStandbyStatusUpdate', () => {
  it('writes the 34-byte r message', () => {
    const buf = encodeStandbyStatusUpdate({
      written: MAX_LSN,
      flushed: NEAR_2_63,
      applied: ABOVE_2_32,
      clientTimeMicros: NOW,
      replyRequested: true,
    });
    expect(buf.length).toBe(STANDBY_STATUS_UPDATE_LENGTH);
    expect(buf).toEqual(frame('r', MAX_LSN, NEAR_2_63, ABOVE_2_32, NOW, 1));
  });

  it('writes zero LSNs, a negative time and replyRequested=false', () => {
    const zero = { written: 0n, flushed: 0n, applied: 0n };
    const buf = encodeStandbyStatusUpdate({ ...zero, clientTimeMicros: -1n, replyRequested: false });
    expect(buf).toEqual(frame('r', 0n, 0n, 0n, -1n, 0));
  });

  it.each([
    ['negative LSN', { written: -1n }],
    ['LSN of 2^64', { flushed: 1n << 64n }],
    ['time beyond int64', { clientTimeMicros: 1n << 63n }],
    ['time below int64', { clientTimeMicros: -(1n << 63n) - 1n }],
  ])('throws RangeError for %s', (_name, patch) => {
    const base = { written: 1n, flushed: 1n, applied: 1n, clientTimeMicros: 0n, replyRequested: false };
    expect(() => encodeStandbyStatusUpdate({ ...base, ...patch })).toThrow(RangeError);
  });
});

describe('PostgreSQL epoch time helpers', () => {
  it('converts micros since 2000-01-01 to Date, flooring to milliseconds', () => {
    expect(pgMicrosToDate(0n)).toEqual(new Date('2000-01-01T00:00:00.000Z'));
    expect(pgMicrosToDate(1_999n)).toEqual(new Date('2000-01-01T00:00:00.001Z'));
    expect(pgMicrosToDate(-1n)).toEqual(new Date('1999-12-31T23:59:59.999Z'));
    expect(pgMicrosToDate(-1_000n)).toEqual(new Date('1999-12-31T23:59:59.999Z'));
    expect(pgMicrosToDate(-1_001n)).toEqual(new Date('1999-12-31T23:59:59.998Z'));
    expect(pgMicrosToDate(-946_684_800_000_000n)).toEqual(new Date(0));
  });

  it('gives an Invalid Date for infinity sentinels', () => {
    expect(Number.isNaN(pgMicrosToDate((1n << 63n) - 1n).getTime())).toBe(true);
    expect(Number.isNaN(pgMicrosToDate(-(1n << 63n)).getTime())).toBe(true);
  });

  it('converts Date to micros exactly and round-trips', () => {
    const d = new Date('2024-02-29T12:34:56.789Z');
    expect(dateToPgMicros(new Date('2000-01-01T00:00:00.001Z'))).toBe(1_000n);
    expect(dateToPgMicros(new Date(0))).toBe(-946_684_800_000_000n);
    expect(pgMicrosToDate(dateToPgMicros(d))).toEqual(d);
    expect(() => dateToPgMicros(new Date(NaN))).toThrow(RangeError);
  });
});
