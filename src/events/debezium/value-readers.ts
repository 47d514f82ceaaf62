/**
 * Readers for the JSON shapes Debezium uses for single values, shared by the schema-driven and
 * the column-type-driven decoders. Each checks the JSON type, converts to PostgreSQL text, and
 * reports a mismatch as `path: expected …` ({@link InvalidField}); none guesses.
 */
import { UNCHANGED } from '../change.js';
import { binaryEncodingName, decodeBase64, decodeBinaryText, toHex, type BinaryHandlingMode } from './binary.js';
import { scaledDecimalText, unscaledFromBytes } from './decimal.js';
import { fail, type JsonPath } from './errors.js';
import { isJsonObject, JsonNumber, jsonTypeName, type JsonValue } from './json.js';
import type { ArrayElement } from './pg-literals.js';
import { pointLiteral } from './pg-literals.js';
import type { UnavailableValue } from './unavailable-value.js';

/** Settings that change how values read; the connector's own option names are in brackets. */
export interface ValueSettings {
  /** How binary columns are written [`binary.handling.mode`]. */
  readonly binaryHandlingMode: BinaryHandlingMode;
  /** The placeholder for values not sent [`unavailable.value.placeholder`]. */
  readonly unavailable: UnavailableValue;
}

/** A converted value, or an array element: text, SQL NULL, nested array, or {@link UNCHANGED}. */
export type Converted = ArrayElement | typeof UNCHANGED;

const INT_LIMITS = {
  8: [-(2n ** 7n), 2n ** 7n - 1n],
  16: [-(2n ** 15n), 2n ** 15n - 1n],
  32: [-(2n ** 31n), 2n ** 31n - 1n],
  64: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

/** An integer JSON number (no fraction or exponent), checked against a signed width when given. */
export function readInteger(json: JsonValue, path: JsonPath, what: string, bits?: 8 | 16 | 32 | 64): bigint {
  if (!(json instanceof JsonNumber) || !json.isInteger) fail(path, `expected an integer for ${what}, found ${describe(json)}`);
  const value = BigInt(json.text);
  if (bits !== undefined) {
    const [min, max] = INT_LIMITS[bits];
    if (value < min || value > max) fail(path, `${json.text} does not fit the ${bits}-bit integer of ${what}`);
  }
  return value;
}

/**
 * Decimal digits that always fit a signed integer of each width: 2 for 8 bits (99 <= 127),
 * 4 for 16, 9 for 32, 18 for 64. A literal with at most that many digits needs no range check.
 */
const SAFE_DIGITS = { 8: 2, 16: 4, 32: 9, 64: 18 } as const;

/**
 * {@link readInteger} as PostgreSQL integer text (what `readInteger(...).toString()` gives:
 * `-0` becomes `0`). A JSON integer literal is already canonical (no `+`, no leading zeros), so
 * a short one is returned as written without passing through a bigint.
 * @throws {InvalidField} as {@link readInteger}.
 */
export function integerText(json: JsonValue, path: JsonPath, what: string, bits: 8 | 16 | 32 | 64): string {
  if (json instanceof JsonNumber) {
    const t = json.text;
    const negative = t.charCodeAt(0) === 0x2d;
    const digits = negative ? t.length - 1 : t.length;
    if (digits > 0 && digits <= SAFE_DIGITS[bits] && json.isInteger) return t === '-0' ? '0' : t;
  }
  return readInteger(json, path, what, bits).toString();
}

/** A JSON string. */
export function readString(json: JsonValue, path: JsonPath, what: string): string {
  if (typeof json !== 'string') fail(path, `expected a string for ${what}, found ${describe(json)}`);
  return json;
}

/** Base64 bytes (JsonConverter's encoding of Connect `bytes`). */
export function readBase64(json: JsonValue, path: JsonPath, what: string): Uint8Array {
  const bytes = typeof json === 'string' ? decodeBase64(json) : undefined;
  if (!bytes) fail(path, `expected base64 for ${what}, found ${describe(json)}`);
  return bytes;
}

/** A binary column written as a string under `binary.handling.mode` (base64, base64url or hex). */
export function readBinaryText(json: JsonValue, path: JsonPath, what: string, mode: BinaryHandlingMode): Uint8Array {
  const bytes = typeof json === 'string' ? decodeBinaryText(json, mode) : undefined;
  if (!bytes) fail(path, `expected ${binaryEncodingName(mode)} for ${what}, found ${describe(json)}`);
  return bytes;
}

/** A short description of a JSON value for messages: `string "abc"`, `number 1.5`, `object`. */
export function describe(json: JsonValue | undefined): string {
  if (typeof json === 'string') return `string ${JSON.stringify(json.length > 40 ? `${json.slice(0, 40)}…` : json)}`;
  if (json instanceof JsonNumber) return `number ${json.text}`;
  return jsonTypeName(json);
}

/**
 * A text value: refuses NUL (PostgreSQL text cannot hold it) and recognises the unavailable-value
 * placeholder. When binary columns may arrive as encoded strings (`binary.handling.mode` other
 * than `bytes`), the placeholder's base64 / hex encodings count as the placeholder too.
 */
export function textValue(text: string, path: JsonPath, settings: ValueSettings): string | typeof UNCHANGED {
  if (isPlainText(text, settings)) return text;
  if (settings.unavailable.isText(text)) return UNCHANGED;
  if (settings.binaryHandlingMode !== 'bytes' && settings.unavailable.isEncodedBytes(text)) return UNCHANGED;
  if (text.includes('\u0000')) fail(path, 'the string contains a NUL character, which PostgreSQL text cannot hold');
  return text;
}

/**
 * True when {@link textValue} returns `text` itself: no placeholder (in any form the settings
 * allow) and no NUL. A check that needs no path, for callers that build the path only on the
 * rare other outcome.
 */
export function isPlainText(text: string, settings: ValueSettings): boolean {
  return (
    !settings.unavailable.isText(text) &&
    (settings.binaryHandlingMode === 'bytes' || !settings.unavailable.isEncodedBytes(text)) &&
    !text.includes('\u0000')
  );
}

/** A JSON float (number, or JsonConverter's quoted `NaN` / `Infinity` / `-Infinity`) as PostgreSQL float text. */
export function floatText(json: JsonValue, path: JsonPath, what: string): string {
  if (json instanceof JsonNumber) return json.text;
  if (json === 'NaN' || json === 'Infinity' || json === '-Infinity') return json;
  fail(path, `expected a number for ${what}, found ${describe(json)}`);
}

/** A JSON boolean as PostgreSQL boolean text. */
export function booleanText(json: JsonValue, path: JsonPath): string {
  if (typeof json !== 'boolean') fail(path, `expected true or false, found ${describe(json)}`);
  return json ? 'true' : 'false';
}

/**
 * `io.debezium.data.Bits`: little-endian bytes holding `length` bits (bit 0 is the lowest bit of
 * the first byte), as a PostgreSQL bit string, most significant bit first. When `length` is
 * absent or Debezium's "unbounded" 2^31-1 (BIT VARYING without a limit) the bytes do not say how
 * many leading zeros the value had, and the shortest form is written (`0` for zero).
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-basic-types
 */
export function bitsText(bytes: Uint8Array, length: number | undefined, path: JsonPath): string {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  const bits = value.toString(2);
  if (length === undefined || length >= 2147483647) return bits;
  if (value !== 0n && bits.length > length) fail(path, `Bits value has ${bits.length} significant bits, more than its length ${length}`);
  return bits.padStart(length, '0');
}

/**
 * `io.debezium.data.VariableScaleDecimal`: a struct `{scale, value}` with `value` the base64
 * unscaled two's-complement bytes; PostgreSQL numeric text.
 */
export function variableScaleDecimal(json: JsonValue, path: JsonPath, settings: ValueSettings): string | typeof UNCHANGED {
  if (!isJsonObject(json)) fail(path, `expected a {scale, value} struct for VariableScaleDecimal, found ${describe(json)}`);
  const scale = Number(readInteger(json.get('scale') ?? null, [...path, 'scale'], 'VariableScaleDecimal scale', 32));
  const bytes = readBase64(json.get('value') ?? null, [...path, 'value'], 'VariableScaleDecimal value');
  if (settings.unavailable.isBytes(bytes)) return UNCHANGED;
  return decimalFromBytes(bytes, scale, path);
}

/** Unscaled two's-complement bytes and a scale as numeric text; an empty array is an error. */
export function decimalFromBytes(bytes: Uint8Array, scale: number, path: JsonPath): string {
  if (bytes.length === 0) fail(path, 'a decimal needs at least one byte of unscaled value');
  return scaledDecimalText(unscaledFromBytes(bytes), scale);
}

/**
 * A geometric point struct `{x, y, …}` (`io.debezium.data.geometry.Point`) as a PostgreSQL
 * `point`, `(x,y)`, coordinates exactly as written.
 */
export function pointText(json: JsonValue, path: JsonPath): string {
  if (!isJsonObject(json)) fail(path, `expected a {x, y} struct for a point, found ${describe(json)}`);
  return pointLiteral(floatText(json.get('x') ?? null, [...path, 'x'], 'point x'), floatText(json.get('y') ?? null, [...path, 'y'], 'point y'));
}

/**
 * A PostGIS value (`io.debezium.data.geometry.Geometry` / `Geography`, a struct `{wkb, srid}`)
 * as hex EWKB, which PostGIS's input function accepts: the SRID, when given and not already in
 * the WKB, is folded into the header (flag 0x20000000 and four SRID bytes after the type), in
 * the WKB's own byte order. Debezium's SRID-4326 placeholder points become {@link UNCHANGED}.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-postgis-types
 */
export function geometryText(json: JsonValue, path: JsonPath, kind: 'geometry' | 'geography', settings: ValueSettings): string | typeof UNCHANGED {
  if (!isJsonObject(json)) fail(path, `expected a {wkb, srid} struct for ${kind}, found ${describe(json)}`);
  const wkb = readBase64(json.get('wkb') ?? null, [...path, 'wkb'], `${kind} wkb`);
  const sridJson = json.get('srid') ?? null;
  const srid = sridJson === null ? null : Number(readInteger(sridJson, [...path, 'srid'], `${kind} srid`, 32));
  if (kind === 'geometry' ? settings.unavailable.isGeometry(wkb, srid) : settings.unavailable.isGeography(wkb, srid)) return UNCHANGED;
  if (wkb.length < 5 || (wkb[0] !== 0 && wkb[0] !== 1)) fail([...path, 'wkb'], 'not well-known binary (no byte-order mark and type)');
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength);
  const littleEndian = wkb[0] === 1;
  const type = view.getUint32(1, littleEndian);
  const SRID_FLAG = 0x20000000;
  if (srid === null || srid === 0 || (type & SRID_FLAG) !== 0) return toHex(wkb).toUpperCase();
  const out = new Uint8Array(wkb.length + 4);
  const outView = new DataView(out.buffer);
  out[0] = wkb[0]!;
  outView.setUint32(1, (type | SRID_FLAG) >>> 0, littleEndian);
  outView.setInt32(5, srid, littleEndian);
  out.set(wkb.subarray(5), 9);
  return toHex(out).toUpperCase();
}
