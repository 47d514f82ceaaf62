import { describe, expect, it } from 'vitest';
import { CdcError } from '../errors.js';
import { formatLogicalType, parseLogicalType, type LogicalType } from './logical-type.js';

describe('parseLogicalType and formatLogicalType', () => {
  it.each<[string, LogicalType]>([
    ['int16', { kind: 'int16' }],
    ['int32', { kind: 'int32' }],
    ['int64', { kind: 'int64' }],
    ['float32', { kind: 'float32' }],
    ['float64', { kind: 'float64' }],
    ['bool', { kind: 'bool' }],
    ['text', { kind: 'text' }],
    ['bytes', { kind: 'bytes' }],
    ['date', { kind: 'date' }],
    ['time', { kind: 'time' }],
    ['timestamp', { kind: 'timestamp' }],
    ['timestamptz', { kind: 'timestamptz' }],
    ['uuid', { kind: 'uuid' }],
    ['json', { kind: 'json' }],
    ['interval', { kind: 'interval' }],
    ['decimal', { kind: 'decimal' }],
    ['decimal(10,2)', { kind: 'decimal', precision: 10, scale: 2 }],
    ['decimal(1000,-1000)', { kind: 'decimal', precision: 1000, scale: -1000 }],
    ['array<int32>', { kind: 'array', element: { kind: 'int32' } }],
    ['array<decimal(5,0)>', { kind: 'array', element: { kind: 'decimal', precision: 5, scale: 0 } }],
    ['array<array<text>>', { kind: 'array', element: { kind: 'array', element: { kind: 'text' } } }],
  ])('%s', (text, type) => {
    expect(parseLogicalType(text)).toEqual(type);
    expect(formatLogicalType(type)).toBe(text);
  });

  it('allows spaces around the punctuation', () => {
    expect(parseLogicalType(' decimal ( 10 , 2 ) ')).toEqual({ kind: 'decimal', precision: 10, scale: 2 });
    expect(parseLogicalType('array< int16 >')).toEqual({ kind: 'array', element: { kind: 'int16' } });
  });

  it.each([
    ['integer', 'unknown type name "integer"'],
    ['', 'expected a type name'],
    ['decimal(0,0)', 'the precision 0 is outside 1..1000'],
    ['decimal(10,1001)', 'the scale 1001 is outside -1000..1000'],
    ['decimal(10)', 'expected ","'],
    ['decimal(a,2)', 'expected the precision, a whole number'],
    ['array<int32', 'expected ">"'],
    ['array', 'expected "<"'],
    ['int32 int64', 'unexpected text after the type'],
    ['Int32', 'expected a type name'],
  ])('rejects %j: %s', (text, problem) => {
    let error: unknown;
    try {
      parseLogicalType(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CdcError);
    expect((error as CdcError).code).toBe('LOGICAL_TYPE_INVALID');
    expect((error as CdcError).message).toContain(`logical type ${JSON.stringify(text)}: ${problem}`);
  });
});
