/**
 * Binary values in JSON: strict base64 / base64url / hex decoding, and PostgreSQL's bytea text.
 *
 * Kafka Connect's JsonConverter writes `bytes` as standard base64. With Debezium's
 * `binary.handling.mode` set to `base64`, `base64-url-safe` or `hex` the connector encodes
 * binary columns itself and declares them `string`.
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-property-binary-handling-mode
 */
import { Buffer } from 'node:buffer';

/** How a binary column is written in the JSON: Debezium's `binary.handling.mode`. */
export type BinaryHandlingMode = 'bytes' | 'base64' | 'base64-url-safe' | 'hex';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;
const HEX = /^(?:[0-9A-Fa-f]{2})*$/;

/**
 * Decodes standard base64 (RFC 4648 §4, padded). Returns undefined when the text is not
 * exactly that (Node's own decoder would skip bad characters silently).
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Decodes base64url (RFC 4648 §5, padding optional); undefined when malformed. */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (!BASE64_URL.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** Decodes hexadecimal (two digits per byte, either case); undefined when malformed. */
export function decodeHex(text: string): Uint8Array | undefined {
  if (!HEX.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/**
 * Decodes a binary column's JSON string under a `binary.handling.mode`: `bytes` (JsonConverter's
 * base64) and `base64` read standard base64, the others their own alphabet. Undefined when the
 * text does not match.
 */
export function decodeBinaryText(text: string, mode: BinaryHandlingMode): Uint8Array | undefined {
  switch (mode) {
    case 'bytes':
    case 'base64':
      return decodeBase64(text);
    case 'base64-url-safe':
      return decodeBase64Url(text);
    case 'hex':
      return decodeHex(text);
  }
}

/** The name of an encoding, for messages: `base64`, `base64url`, `hex`. */
export function binaryEncodingName(mode: BinaryHandlingMode): string {
  return mode === 'hex' ? 'hex' : mode === 'base64-url-safe' ? 'base64url' : 'base64';
}

/** Lower-case hexadecimal of the bytes, two digits each. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * PostgreSQL's bytea text form in hex format: `\x` followed by two hex digits per byte.
 * @see https://www.postgresql.org/docs/current/datatype-binary.html#DATATYPE-BINARY-BYTEA-HEX-FORMAT
 */
export function byteaText(bytes: Uint8Array): string {
  return `\\x${toHex(bytes)}`;
}

/** True when both hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
