/**
 * The one error the Debezium decoder raises, and the path-carrying failure its parts throw.
 *
 * Inner functions know only where in the JSON they are (`payload.after.total`); the entry point
 * knows the broker coordinates. {@link InvalidField} carries the first, and
 * {@link DebeziumDecodeError} adds the second.
 */
import { CdcError } from '../../errors.js';

/** Where a record came from, for messages: topic, and partition and offset when known. */
export interface BrokerCoordinates {
  readonly topic: string;
  readonly partition?: number;
  /** Offset of the record within its partition. */
  readonly offset?: bigint;
}

/** A path inside a JSON document, as member names and array indexes. */
export type JsonPath = readonly (string | number)[];

/**
 * Renders a path the way a reader writes it: `payload.after.total`, `after.tags[2]`,
 * `after["odd name"]`.
 */
export function formatJsonPath(path: JsonPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out === '' ? '(top level)' : out;
}

/**
 * Thrown by the decoder's parts: what is wrong (`reason`) and where (`path`). The entry point
 * turns it into a {@link DebeziumDecodeError}; it never escapes the public API.
 */
export class InvalidField extends Error {
  readonly path: JsonPath;
  readonly reason: string;

  constructor(path: JsonPath, reason: string, options?: { cause?: unknown }) {
    super(`${formatJsonPath(path)}: ${reason}`, options);
    this.name = 'InvalidField';
    this.path = path;
    this.reason = reason;
  }
}

/** Throws an {@link InvalidField}: `fail(['payload', 'op'], 'expected one of c, u, d, r, t')`. */
export function fail(path: JsonPath, reason: string, cause?: unknown): never {
  throw new InvalidField(path, reason, cause === undefined ? undefined : { cause });
}

/** Which part of the Kafka record was being read. */
export type RecordPart = 'key' | 'value';

/**
 * A Debezium record that cannot be decoded: not JSON, not a Debezium shape, or a value that
 * does not match its schema. Code `DEBEZIUM_EVENT_INVALID`; never retryable (the same bytes
 * fail the same way). The message names the topic, partition and offset when known, the part
 * of the record (key or value) and the JSON path, e.g.
 * `Debezium value on topic "pg.public.orders" (partition 0, offset 42) is invalid: payload.after.total: expected base64 for Decimal`.
 * `context` holds `topic`, `partition`, `offset` (as a string), `part` and `path`.
 */
export class DebeziumDecodeError extends CdcError {
  /** The JSON path of the offending field, e.g. `payload.after.total`; absent when the whole record is at fault. */
  readonly path: string | undefined;

  constructor(at: BrokerCoordinates, part: RecordPart, reason: string, options: { path?: string; cause?: unknown } = {}) {
    const where = [
      at.partition === undefined ? undefined : `partition ${at.partition}`,
      at.offset === undefined ? undefined : `offset ${at.offset}`,
    ].filter((s) => s !== undefined);
    const located = where.length > 0 ? ` (${where.join(', ')})` : '';
    const detail = options.path === undefined ? reason : `${options.path}: ${reason}`;
    super('DEBEZIUM_EVENT_INVALID', `Debezium ${part} on topic ${JSON.stringify(at.topic)}${located} is invalid: ${detail}`, {
      remedy:
        'Check the connector and converter settings (JsonConverter, schemas.enable, binary/decimal/time handling modes) against the decoder options; route the record to a dead-letter topic if it is corrupt.',
      context: {
        topic: at.topic,
        ...(at.partition === undefined ? {} : { partition: at.partition }),
        ...(at.offset === undefined ? {} : { offset: at.offset.toString() }),
        part,
        ...(options.path === undefined ? {} : { path: options.path }),
      },
      cause: options.cause,
      retryable: false,
    });
    this.name = 'DebeziumDecodeError';
    this.path = options.path;
  }
}
