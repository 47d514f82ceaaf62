/**
 * Read access to the fields of a Debezium `source` block, wherever they are: the block itself
 * (`source.lsn`), or the flat row of the ExtractNewRecordState form, where the transform copies
 * them with a `__` prefix (`__lsn`, `__table`). Error paths name the field as written.
 */
import { fail, type JsonPath } from './errors.js';
import { JsonNumber, type JsonObject, type JsonValue } from './json.js';
import { describe } from './value-readers.js';

/** The fields of a source block, read by their Debezium names. */
export class SourceFields {
  /**
   * @param object - the JSON object holding the fields
   * @param path - where that object is, for messages
   * @param prefix - what precedes each field name in it (`''` in a source block, `'__'` in an unwrapped row)
   */
  constructor(
    readonly object: JsonObject,
    readonly path: JsonPath,
    readonly prefix: string = '',
  ) {}

  /** The raw value of a field, or undefined when absent. */
  get(key: string): JsonValue | undefined {
    return this.object.get(this.prefix + key);
  }

  /** True when the field is present (even as null). */
  has(key: string): boolean {
    return this.object.has(this.prefix + key);
  }

  /** The JSON path of a field, for messages. */
  pathOf(key: string): JsonPath {
    return [...this.path, this.prefix + key];
  }

  /** A string field; undefined when absent or null. @throws {InvalidField} when of another type. */
  string(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') fail(this.pathOf(key), `expected a string, found ${describe(v)}`);
    return v;
  }

  /**
   * An integer field: a JSON integer, or a string of decimal digits (some connector versions
   * write int64 fields such as SQL Server's `event_serial_no` as strings; the digits are exact
   * either way). Undefined when absent or null.
   * @throws {InvalidField} when of another form.
   */
  integer(key: string): bigint | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (v instanceof JsonNumber) {
      const small = v.safeInteger;
      if (small !== undefined) return BigInt(small);
      if (v.isInteger) return BigInt(v.text);
    }
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
    fail(this.pathOf(key), `expected an integer, found ${describe(v)}`);
  }

  /** Any scalar field as text (strings as is, numbers as written, booleans as true/false); else undefined. */
  text(key: string): string | undefined {
    const v = this.get(key);
    if (typeof v === 'string') return v;
    if (v instanceof JsonNumber) return v.text;
    if (typeof v === 'boolean') return String(v);
    return undefined;
  }
}
