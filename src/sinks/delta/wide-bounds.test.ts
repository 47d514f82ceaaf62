import { describe, expect, it } from 'vitest';
import { wideBounds } from './delta-table.js';

describe('wideBounds (statistics of a file that gets a deletion vector)', () => {
  it('adds tightBounds: false as text, keeping 64-bit and decimal bounds exact', () => {
    const stats = '{"numRecords":3,"minValues":{"id":-9223372036854775808,"d":-99999999999999999999.9999999999},"maxValues":{"id":9223372036854775807},"nullCount":{"id":0}}';
    const wide = wideBounds(stats);
    expect(wide).toBe(`${stats.slice(0, -1)},"tightBounds":false}`);
    expect(wide).toContain('9223372036854775807');
    expect(wide).toContain('-99999999999999999999.9999999999');
  });

  it('turns an existing tightBounds to false, and handles an empty object', () => {
    expect(wideBounds('{"numRecords":1,"tightBounds":true}')).toBe('{"numRecords":1,"tightBounds":false}');
    expect(wideBounds('{"numRecords":1, "tightBounds" : false}')).toBe('{"numRecords":1, "tightBounds":false}');
    expect(wideBounds('{}')).toBe('{"tightBounds":false}');
  });
});
