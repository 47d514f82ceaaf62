import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCopyTextLine, readCopyTextRows } from './copy-text.js';

describe('COPY text rows', () => {
  it('reads NULL, escapes, octal and hexadecimal bytes', () => {
    expect(readCopyTextLine('1\t\\N\ta\\tb\\nc\\\\d\t\\303\\251\\x41', 4)).toEqual(['1', null, 'a\tb\nc\\d', 'éA']);
  });
  it('names a row with the wrong number of fields', () => {
    expect(() => readCopyTextLine('1\t2', 3)).toThrow(/2 fields where the table has 3 columns/);
  });
  it('splits a stream into rows across chunk and character boundaries', async () => {
    const bytes = Buffer.from('1\té\n2\t\\N\n3\tz');
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 7), bytes.subarray(7)];
    const rows = [];
    for await (const row of readCopyTextRows(Readable.from(chunks), 2)) rows.push(row);
    expect(rows).toEqual([['1', 'é'], ['2', null], ['3', 'z']]);
  });
});
