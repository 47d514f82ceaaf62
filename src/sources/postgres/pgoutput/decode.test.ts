import { describe, expect, it } from 'vitest';
import { decodePgoutputMessage } from './decode.js';
import type { PgoutputMessage, PgoutputProtocolVersion } from './messages.js';
import { ProtocolError } from './reader.js';

/** Test-only encoder: appends big-endian fields the way the walsender writes them. */
class Enc {
  private readonly parts: Buffer[] = [];
  private push(size: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(size);
    write(b);
    this.parts.push(b);
    return this;
  }
  ch(c: string): this {
    return this.u8(c.charCodeAt(0));
  }
  u8(n: number): this {
    return this.push(1, (b) => b.writeUInt8(n));
  }
  i16(n: number): this {
    return this.push(2, (b) => b.writeInt16BE(n));
  }
  i32(n: number): this {
    return this.push(4, (b) => b.writeInt32BE(n));
  }
  u32(n: number): this {
    return this.push(4, (b) => b.writeUInt32BE(n));
  }
  u64(n: bigint): this {
    return this.push(8, (b) => b.writeBigUInt64BE(n));
  }
  i64(n: bigint): this {
    return this.push(8, (b) => b.writeBigInt64BE(n));
  }
  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }
  str(s: string): this {
    return this.raw(Buffer.from(s, 'utf8')).u8(0);
  }
  /** One TupleData: null → 'n', undefined → 'u', string → 't', Buffer → 'b'. */
  tuple(values: readonly (string | null | undefined | Buffer)[]): this {
    this.i16(values.length);
    for (const v of values) {
      if (v === null) this.ch('n');
      else if (v === undefined) this.ch('u');
      else {
        const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
        this.ch(typeof v === 'string' ? 't' : 'b').i32(bytes.length).raw(bytes);
      }
    }
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const enc = () => new Enc();

/** The ProtocolError code `fn` throws, or undefined when it returns; rethrows anything else. */
function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  return undefined;
}

const decode = (b: Buffer) => decodePgoutputMessage(b);

const ABOVE_2_32 = (1n << 32n) + 0x28n; // 1/28
const NEAR_2_63 = (1n << 63n) - 1n; // largest signed int64
const ABOVE_2_63 = (1n << 64n) - 1n; // LSNs are unsigned: FFFFFFFF/FFFFFFFF
const MICROS = 7_000_000_000_123_456n; // 2221-10-27T12:26:40.123456Z, with sub-millisecond digits
const MICROS_DATE = new Date(946_684_800_000 + 7_000_000_000_123);
const UTF8 = 'héllo 🐘 表';
const BIN = Buffer.from([0, 1, 2, 0xff]);
const text = (value: string) => ({ kind: 'text', value }) as const;
const NULL = { kind: 'null' } as const;
const UNCH = { kind: 'unchanged' } as const;

const cases: [string, Buffer, PgoutputMessage][] = [
  [
    'begin',
    enc().ch('B').u64(ABOVE_2_32).i64(MICROS).u32(0xfffffff0).build(),
    { kind: 'begin', finalLsn: ABOVE_2_32, commitTime: MICROS_DATE, commitTimeMicros: MICROS, xid: 0xfffffff0 },
  ],
  [
    'commit',
    enc().ch('C').u8(0).u64(NEAR_2_63).u64(ABOVE_2_63).i64(-1n).build(),
    {
      kind: 'commit',
      flags: 0,
      commitLsn: NEAR_2_63,
      endLsn: ABOVE_2_63,
      commitTime: new Date('1999-12-31T23:59:59.999Z'),
      commitTimeMicros: -1n,
    },
  ],
  [
    'origin',
    enc().ch('O').u64(ABOVE_2_32).str('nœud_1').build(),
    { kind: 'origin', originLsn: ABOVE_2_32, name: 'nœud_1' },
  ],
  [
    'relation',
    enc().ch('R').u32(0xfffffffe).str('').str('Ünïcødé 表').ch('f').i16(3)
      .u8(1).str('id').u32(23).i32(-1)
      .u8(0).str('').u32(25).i32(-1)
      .u8(0).str('price').u32(1700).i32((10 << 16) + 2 + 4)
      .build(),
    {
      kind: 'relation',
      relationId: 0xfffffffe,
      namespace: '',
      name: 'Ünïcødé 表',
      replicaIdentity: 'f',
      columns: [
        { flags: 1, isKey: true, name: 'id', typeOid: 23, typeMod: -1 },
        { flags: 0, isKey: false, name: '', typeOid: 25, typeMod: -1 },
        { flags: 0, isKey: false, name: 'price', typeOid: 1700, typeMod: (10 << 16) + 6 },
      ],
    },
  ],
  [
    'relation without columns',
    enc().ch('R').u32(16384).str('public').str('t').ch('n').i16(0).build(),
    { kind: 'relation', relationId: 16384, namespace: 'public', name: 't', replicaIdentity: 'n', columns: [] },
  ],
  [
    'type',
    enc().ch('Y').u32(0xffff0000).str('public').str('mood').build(),
    { kind: 'type', typeOid: 0xffff0000, namespace: 'public', name: 'mood' },
  ],
  [
    'insert',
    enc().ch('I').u32(16384).ch('N').tuple(['42', '', null, UTF8, BIN]).build(),
    {
      kind: 'insert',
      relationId: 16384,
      newTuple: [text('42'), text(''), NULL, text(UTF8), { kind: 'binary', value: BIN }],
    },
  ],
  [
    'insert without columns',
    enc().ch('I').u32(1).ch('N').tuple([]).build(),
    { kind: 'insert', relationId: 1, newTuple: [] },
  ],
  [
    'update (new tuple only, unchanged TOAST)',
    enc().ch('U').u32(16384).ch('N').tuple(['1', undefined, '']).build(),
    { kind: 'update', relationId: 16384, newTuple: [text('1'), UNCH, text('')] },
  ],
  [
    'update with old key',
    enc().ch('U').u32(16384).ch('K').tuple(['1', null]).ch('N').tuple(['2', UTF8]).build(),
    {
      kind: 'update',
      relationId: 16384,
      oldTuple: { kind: 'K', values: [text('1'), NULL] },
      newTuple: [text('2'), text(UTF8)],
    },
  ],
  [
    'update with old row',
    enc().ch('U').u32(16384).ch('O').tuple(['1', '']).ch('N').tuple(['1', undefined]).build(),
    {
      kind: 'update',
      relationId: 16384,
      oldTuple: { kind: 'O', values: [text('1'), text('')] },
      newTuple: [text('1'), UNCH],
    },
  ],
  [
    'delete with old key',
    enc().ch('D').u32(16384).ch('K').tuple(['7', null]).build(),
    { kind: 'delete', relationId: 16384, oldTuple: { kind: 'K', values: [text('7'), NULL] } },
  ],
  [
    'delete with old row',
    enc().ch('D').u32(16384).ch('O').tuple(['7', UTF8]).build(),
    { kind: 'delete', relationId: 16384, oldTuple: { kind: 'O', values: [text('7'), text(UTF8)] } },
  ],
  [
    'truncate',
    enc().ch('T').i32(2).u8(3).u32(1).u32(0xfffffffe).build(),
    { kind: 'truncate', options: 3, cascade: true, restartIdentity: true, relationIds: [1, 0xfffffffe] },
  ],
  [
    'truncate restart identity only',
    enc().ch('T').i32(1).u8(2).u32(5).build(),
    { kind: 'truncate', options: 2, cascade: false, restartIdentity: true, relationIds: [5] },
  ],
  [
    'transactional message',
    enc().ch('M').u8(1).u64(ABOVE_2_63).str('cdc 表').i32(4).raw(Buffer.from([0, 9, 0, 0xfe])).build(),
    {
      kind: 'message',
      flags: 1,
      transactional: true,
      lsn: ABOVE_2_63,
      prefix: 'cdc 表',
      content: Buffer.from([0, 9, 0, 0xfe]),
    },
  ],
  [
    'non-transactional empty message',
    enc().ch('M').u8(0).u64(ABOVE_2_32).str('').i32(0).build(),
    { kind: 'message', flags: 0, transactional: false, lsn: ABOVE_2_32, prefix: '', content: Buffer.alloc(0) },
  ],
];

describe('decodePgoutputMessage', () => {
  it.each(cases)('decodes %s', (_name, buf, expected) => {
    expect(decode(buf)).toEqual(expected);
  });

  it.each(cases)('%s: every strict prefix throws PGOUTPUT_TRUNCATED', (_name, buf) => {
    const wrong: string[] = [];
    for (let cut = 0; cut < buf.length; cut++) {
      const code = errorCode(() => decode(buf.subarray(0, cut)));
      if (code !== 'PGOUTPUT_TRUNCATED') wrong.push(`cut ${cut}: ${code ?? 'decoded'}`);
    }
    expect(wrong).toEqual([]);
  });

  it.each(cases)('%s: trailing bytes throw PGOUTPUT_TRAILING_BYTES', (_name, buf) => {
    expect(errorCode(() => decode(Buffer.concat([buf, Buffer.from([0])])))).toBe('PGOUTPUT_TRAILING_BYTES');
    expect(errorCode(() => decode(Buffer.concat([buf, Buffer.from('xyz')])))).toBe('PGOUTPUT_TRAILING_BYTES');
  });

  it('tells NULL, empty text and unchanged apart', () => {
    const msg = decode(enc().ch('I').u32(1).ch('N').tuple([null, '', undefined]).build());
    expect(msg.kind === 'insert' && msg.newTuple).toEqual([NULL, text(''), UNCH]);
  });

  it('keeps commit time microseconds exactly while the Date is floored to milliseconds', () => {
    const msg = decode(enc().ch('B').u64(1n).i64(999n).u32(1).build());
    expect(msg).toMatchObject({ commitTimeMicros: 999n, commitTime: new Date('2000-01-01T00:00:00.000Z') });
  });

  it.each(['Z', 'S', 'E', 'c', 'A', 'b'])('rejects unknown message type %j', (type) => {
    expect(errorCode(() => decode(enc().ch(type).u64(0n).build()))).toBe('PGOUTPUT_UNKNOWN_MESSAGE');
  });

  it('rejects an unknown type byte even with no body', () => {
    expect(errorCode(() => decode(Buffer.from([0])))).toBe('PGOUTPUT_UNKNOWN_MESSAGE');
  });

  it('rejects an empty buffer as truncated', () => {
    expect(errorCode(() => decode(Buffer.alloc(0)))).toBe('PGOUTPUT_TRUNCATED');
  });

  it.each([
    ['insert without N marker', enc().ch('I').u32(1).ch('K').tuple(['1']).build()],
    ['update with bad old marker', enc().ch('U').u32(1).ch('X').tuple(['1']).build()],
    ['update with old tuple then no N', enc().ch('U').u32(1).ch('K').tuple(['1']).ch('K').tuple(['1']).build()],
    ['delete with N marker', enc().ch('D').u32(1).ch('N').tuple(['1']).build()],
    ['unknown column kind', enc().ch('I').u32(1).ch('N').i16(1).ch('x').build()],
    ['negative text length', enc().ch('I').u32(1).ch('N').i16(1).ch('t').i32(-1).build()],
    ['negative column count', enc().ch('I').u32(1).ch('N').i16(-1).build()],
    ['unknown replica identity', enc().ch('R').u32(1).str('s').str('t').ch('x').i16(0).build()],
    ['negative truncate count', enc().ch('T').i32(-1).u8(0).build()],
    ['negative message length', enc().ch('M').u8(0).u64(0n).str('p').i32(-2).build()],
  ])('rejects %s as PGOUTPUT_MALFORMED', (_name, buf) => {
    expect(errorCode(() => decode(buf))).toBe('PGOUTPUT_MALFORMED');
  });

  it('reports where the problem is', () => {
    const buf = enc().ch('I').u32(1).ch('N').i16(1).ch('t').i32(10).raw(Buffer.from('abc')).build();
    expect(() => decode(buf)).toThrow(expect.objectContaining({ offset: 13, message: expect.stringMatching(/need 10 byte/) }));
  });

  it('rejects protocol versions other than 1', () => {
    const buf = enc().ch('B').u64(1n).i64(0n).u32(1).build();
    expect(decodePgoutputMessage(buf, { protocolVersion: 1 }).kind).toBe('begin');
    const v2 = 2 as unknown as PgoutputProtocolVersion;
    const code = errorCode(() => decodePgoutputMessage(buf, { protocolVersion: v2 }));
    expect(code).toBe('PGOUTPUT_UNSUPPORTED_VERSION');
  });

  it('returns binary values and message content as views of the input (no copy)', () => {
    const buf = enc().ch('I').u32(1).ch('N').tuple([BIN]).build();
    const msg = decode(buf);
    const value = msg.kind === 'insert' ? msg.newTuple[0] : undefined;
    if (value?.kind !== 'binary') throw new Error('not binary');
    expect(value.value.buffer).toBe(buf.buffer);
    expect(value.value.byteOffset).toBe(buf.byteOffset + 13);
  });
});
