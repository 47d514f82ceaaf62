/**
 * Reading rows in PostgreSQL's COPY text format (what `COPY … TO STDOUT` writes, the snapshot
 * chunk format `copy-text` of `SinkCapabilities.snapshotFormat`) back into the change model's
 * text values, for sinks that do not hand the text to PostgreSQL: columns separated by a tab,
 * rows ended by a newline, `\N` for NULL, backslash escapes `\b \f \n \r \t \v \\`, `\digits`
 * (octal) and `\xHH` (hexadecimal) for bytes.
 * @see https://www.postgresql.org/docs/current/sql-copy.html (Text Format)
 */
import type { Readable } from 'node:stream';
import type { ColumnValue } from '../change.js';

const SIMPLE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** One field's text with COPY's escapes undone. */
function unescapeField(field: string): string {
  if (!field.includes('\\')) return field;
  let out = '';
  const bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length > 0) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c !== '\\' || i + 1 >= field.length) {
      flushBytes();
      out += c;
      continue;
    }
    const next = field[++i]!;
    if (next >= '0' && next <= '7') {
      let j = i;
      while (j < field.length && j < i + 3 && field[j]! >= '0' && field[j]! <= '7') j++;
      bytes.push(parseInt(field.slice(i, j), 8) & 0xff);
      i = j - 1;
    } else if (next === 'x' && /^[0-9a-fA-F]/.test(field[i + 1] ?? '')) {
      let j = i + 1;
      while (j < field.length && j < i + 3 && /[0-9a-fA-F]/.test(field[j]!)) j++;
      bytes.push(parseInt(field.slice(i + 1, j), 16));
      i = j - 1;
    } else {
      flushBytes();
      out += SIMPLE[next] ?? next;
    }
  }
  flushBytes();
  return out;
}

/**
 * The values of one COPY text line (without its newline).
 * @throws {Error} naming the line when it has a different number of fields than `columns`.
 */
export function readCopyTextLine(line: string, columns: number): ColumnValue[] {
  const fields = line.split('\t');
  if (fields.length !== columns) {
    throw new Error(`a COPY text row has ${fields.length} fields where the table has ${columns} columns: ${JSON.stringify(line.slice(0, 200))}`);
  }
  return fields.map((f) => (f === '\\N' ? null : unescapeField(f)));
}

/**
 * The rows of a COPY text stream, as they arrive (memory holds one chunk of the stream).
 * @throws {Error} from {@link readCopyTextLine}, or the stream's error.
 */
export async function* readCopyTextRows(stream: Readable, columns: number): AsyncGenerator<ColumnValue[]> {
  let rest = '';
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      yield readCopyTextLine(text.slice(start, nl), columns);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.decode();
  if (rest.length > 0) yield readCopyTextLine(rest, columns);
}
