/**
 * Debezium's placeholder for a value it did not receive: an unchanged TOASTed column in a
 * PostgreSQL update (REPLICA IDENTITY other than FULL), an Oracle LOB, and the like. The decoder
 * turns every form of it into {@link UNCHANGED} so a sink keeps the target's current value
 * (DESIGN.md §3.5).
 *
 * The connector writes the configured placeholder (`unavailable.value.placeholder`, default
 * `__debezium_unavailable_value`) in a form that fits the column's schema:
 * - a string column: the placeholder text;
 * - a bytes column (also Decimal and Bits): the placeholder's UTF-8 bytes, so base64
 *   `X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==` in JSON (or hex / base64url under another
 *   `binary.handling.mode`);
 * - text and binary arrays: a one-element array holding the placeholder;
 * - integer and bigint arrays: the placeholder's bytes as numbers (`[95,95,100,…]`);
 * - uuid arrays: a one-element array holding the name-based (MD5, version 3) UUID of the bytes;
 * - hstore as a map: `{placeholder: placeholder}`;
 * - PostGIS geometry / geography: fixed points with SRID 4326.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-property-unavailable-value-placeholder
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-toasted-values
 */
import { createHash } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { decodeHex, sameBytes, toHex } from './binary.js';

/** Debezium's default `unavailable.value.placeholder`. */
export const DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER = '__debezium_unavailable_value';

/** WKB of the geometry placeholder, `SRID=4326;POINT(-99999999 -99999999)`. */
const GEOMETRY_PLACEHOLDER_WKB = '0101000020e6100000000000fc83d797c1000000fc83d797c1';
/** WKB of the geography placeholder, `SRID=4326;POINT(179.999999 89.999999)`. */
const GEOGRAPHY_PLACEHOLDER_WKB = '0101000020e61000000c21e7fdff7f66401842cefbff7f5640';

/** Every encoding of one configured placeholder, and tests for each. */
export class UnavailableValue {
  /** The placeholder as text (string columns, text arrays, hstore). */
  readonly text: string;
  /** The placeholder as bytes (bytes, Decimal and Bits columns, binary arrays). */
  readonly bytes: Uint8Array;
  /** The placeholder's bytes as signed integers, as in integer arrays. */
  readonly byteNumbers: readonly number[];
  /** Java's `UUID.nameUUIDFromBytes` of the bytes, as in uuid arrays. */
  readonly uuid: string;
  private readonly encodings: ReadonlySet<string>;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.text = Buffer.from(bytes).toString('utf8');
    this.byteNumbers = Array.from(bytes, (b) => (b > 127 ? b - 256 : b));
    this.uuid = nameUuid(bytes);
    const b = Buffer.from(bytes);
    this.encodings = new Set([b.toString('base64'), b.toString('base64url'), toHex(bytes), toHex(bytes).toUpperCase()]);
  }

  /**
   * The forms of a configured `unavailable.value.placeholder`. As in Debezium, a value starting
   * with `hex:` gives the bytes in hexadecimal; anything else is taken as UTF-8 text.
   * @throws {Error} when a `hex:` value is not hexadecimal.
   */
  static of(setting: string = DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER): UnavailableValue {
    let cached = CACHE.get(setting);
    if (!cached) {
      let bytes: Uint8Array;
      if (setting.startsWith('hex:')) {
        const decoded = decodeHex(setting.slice(4));
        if (!decoded) throw new Error(`unavailable value placeholder ${JSON.stringify(setting)}: not hexadecimal after "hex:"`);
        bytes = decoded;
      } else {
        bytes = new Uint8Array(Buffer.from(setting, 'utf8'));
      }
      cached = new UnavailableValue(bytes);
      CACHE.set(setting, cached);
    }
    return cached;
  }

  /** True for the placeholder text itself. */
  isText(text: string): boolean {
    return text === this.text;
  }

  /** True for the placeholder's bytes. */
  isBytes(bytes: Uint8Array): boolean {
    return sameBytes(bytes, this.bytes);
  }

  /**
   * True when `text` is the placeholder's bytes written as base64, base64url or hex: how a
   * binary column's placeholder looks when the connector encodes binary columns as strings.
   */
  isEncodedBytes(text: string): boolean {
    return this.encodings.has(text);
  }

  /** True for an integer array holding the placeholder's bytes (numbers as their literal text). */
  isByteNumbers(items: readonly string[]): boolean {
    return items.length === this.byteNumbers.length && items.every((t, i) => t === String(this.byteNumbers[i]));
  }

  /** True for the PostGIS geometry placeholder (`wkb` bytes and `srid`). */
  isGeometry(wkb: Uint8Array, srid: number | null): boolean {
    return srid === 4326 && toHex(wkb) === GEOMETRY_PLACEHOLDER_WKB;
  }

  /** True for the PostGIS geography placeholder. */
  isGeography(wkb: Uint8Array, srid: number | null): boolean {
    return srid === 4326 && toHex(wkb) === GEOGRAPHY_PLACEHOLDER_WKB;
  }
}

const CACHE = new Map<string, UnavailableValue>();

/** Java's `UUID.nameUUIDFromBytes`: MD5 of the bytes with the version (3) and variant bits set. */
function nameUuid(bytes: Uint8Array): string {
  const md5 = createHash('md5').update(bytes).digest();
  md5[6] = (md5[6]! & 0x0f) | 0x30;
  md5[8] = (md5[8]! & 0x3f) | 0x80;
  const hex = md5.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
