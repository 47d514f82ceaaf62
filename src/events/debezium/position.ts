/**
 * Where a change sits in its source's order, from the `source` block of a Debezium event
 * (DESIGN.md §3.1: order by source position, never by wall-clock time).
 *
 * Each connector writes its position differently:
 * - PostgreSQL: `lsn` (the change's WAL position, an integer) and, since Debezium 1.x, `sequence`,
 *   a JSON array in a string, `["<last commit LSN>", "<LSN>"]`. Changes of concurrent
 *   transactions interleave in WAL, so the LSN alone does not order them in commit order; the
 *   pair does. Key: `[last commit LSN, LSN]`, or `[LSN]` without `sequence`.
 * - SQL Server: `commit_lsn`, `change_lsn` (`00000025:00000d98:0002`: 8, 8 and 4 hex digits, read
 *   as one 80-bit number) and `event_serial_no` (orders the before and after halves of an update
 *   with the same change LSN). Key: `[commit_lsn, change_lsn, event_serial_no]`.
 * - MySQL / MariaDB: binlog `file` (`mysql-bin.000003` → 3), `pos` and `row` (the row within a
 *   multi-row binlog event). Key: `[file number, pos, row]`.
 * Anything else, or a source block without a position (Flink CDC's snapshot rows have `file: ""`),
 * falls back to the broker's order, `[partition, offset]`, which orders records of one key (a key
 * always maps to one partition).
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-create-events
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-create-events
 */
import { CdcError } from '../../errors.js';
import { formatLsn } from '../lsn.js';
import { fail, type BrokerCoordinates } from './errors.js';
import { isJsonArray, JsonNumber, parseJson, type JsonValue } from './json.js';
import type { SourceFields } from './source-fields.js';

/** Connector kinds whose positions this module reads; others keep their own name. */
export type KnownConnector = 'postgresql' | 'mysql' | 'sqlserver';

/**
 * A change's position: a key totally ordered within one connector (one source database), for
 * {@link compareSourcePositions}, and a text for people.
 */
export interface SourcePosition {
  /**
   * Whose order `sortKey` is in: `postgresql`, `mysql`, `sqlserver` (from the source block), or
   * `broker` (the record's `[partition, offset]`, when the source block has no usable position).
   */
  readonly connector: KnownConnector | 'broker' | (string & {});
  /** Compare element by element; see the module comment for each connector's elements. */
  readonly sortKey: readonly bigint[];
  /** For logs and messages: `lsn 0/16E8B58 (last commit 0/16E8B20)`, `mysql-bin.000003:484 row 0`, … */
  readonly text: string;
}

/**
 * Negative, zero or positive as `a` sorts before, with or after `b`. Keys are compared element by
 * element; when one is a prefix of the other, the shorter sorts first.
 * @throws {CdcError} code `DEBEZIUM_POSITION_INCOMPARABLE` when the two come from different
 * connectors (or one from the broker): their keys are in different orders.
 */
export function compareSourcePositions(a: SourcePosition, b: SourcePosition): number {
  if (a.connector !== b.connector) {
    throw new CdcError('DEBEZIUM_POSITION_INCOMPARABLE', `cannot order a ${a.connector} position (${a.text}) against a ${b.connector} position (${b.text})`, {
      remedy: 'Compare positions only within one source connector; records without a source position are ordered by partition and offset.',
      context: { a: a.text, b: b.text },
    });
  }
  const n = Math.min(a.sortKey.length, b.sortKey.length);
  for (let i = 0; i < n; i++) {
    const x = a.sortKey[i]!;
    const y = b.sortKey[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.sortKey.length - b.sortKey.length;
}

const SQLSERVER_LSN = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/;

/**
 * A SQL Server LSN (`00000025:00000d98:0002`: virtual log file, block, slot) as one number, so
 * numeric order is log order. Undefined when the text is not of that form.
 * @see https://learn.microsoft.com/en-us/sql/relational-databases/system-functions/cdc-fn-cdc-get-all-changes-capture-instance-transact-sql
 */
export function parseSqlServerLsn(text: string): bigint | undefined {
  const m = SQLSERVER_LSN.exec(text);
  if (!m) return undefined;
  return (BigInt(`0x${m[1]}`) << 48n) | (BigInt(`0x${m[2]}`) << 16n) | BigInt(`0x${m[3]}`);
}

/** The sequence number of a binlog file name: `mysql-bin.000003` → 3n; undefined without one. */
export function binlogFileNumber(file: string): bigint | undefined {
  const m = /\.(\d+)$/.exec(file);
  return m ? BigInt(m[1]!) : undefined;
}

/** `["24023119","24023128"]`, either LSN possibly `null`: the `sequence` field as Debezium writes it. */
const PLAIN_SEQUENCE = /^\[(?:"(\d+)"|null),(?:"(\d+)"|null)\]$/;

/** The PostgreSQL `sequence` field: `["last commit lsn", "lsn"]` (either may be null) as a JSON string. */
function postgresSequence(source: SourceFields): [bigint | undefined, bigint | undefined] | undefined {
  const text = source.string('sequence');
  if (text === undefined) return undefined;
  // The form every event has, read without the JSON reader (the general path below gives the same).
  const plain = PLAIN_SEQUENCE.exec(text);
  if (plain) return [plain[1] === undefined ? undefined : BigInt(plain[1]), plain[2] === undefined ? undefined : BigInt(plain[2])];
  let parsed: JsonValue;
  try {
    parsed = parseJson(text);
  } catch (error) {
    fail(source.pathOf('sequence'), 'expected a JSON array of two LSNs', error);
  }
  if (!isJsonArray(parsed) || parsed.length !== 2) fail(source.pathOf('sequence'), `expected a JSON array of two LSNs, found ${text}`);
  const lsn = (v: JsonValue): bigint | undefined => {
    if (v === null) return undefined;
    if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
    if (v instanceof JsonNumber && /^\d+$/.test(v.text)) return BigInt(v.text);
    fail(source.pathOf('sequence'), `expected LSNs as decimal strings, found ${text}`);
  };
  return [lsn(parsed[0]!), lsn(parsed[1]!)];
}

function postgresPosition(source: SourceFields): SourcePosition | undefined {
  const lsn = source.integer('lsn');
  const sequence = postgresSequence(source);
  const current = lsn ?? sequence?.[1];
  if (current === undefined) return undefined;
  if (sequence !== undefined) {
    const lastCommit = sequence[0] ?? 0n;
    return {
      connector: 'postgresql',
      sortKey: [lastCommit, current],
      text: `lsn ${formatLsn(current)} (last commit ${sequence[0] === undefined ? 'none' : formatLsn(lastCommit)})`,
    };
  }
  return { connector: 'postgresql', sortKey: [current], text: `lsn ${formatLsn(current)}` };
}

function sqlServerPosition(source: SourceFields): SourcePosition | undefined {
  const lsn = (key: string): bigint | undefined => {
    const text = source.string(key);
    if (text === undefined) return undefined;
    const value = parseSqlServerLsn(text);
    if (value === undefined) fail(source.pathOf(key), `expected a SQL Server LSN like 00000025:00000d98:0002, found ${JSON.stringify(text)}`);
    return value;
  };
  const commit = lsn('commit_lsn');
  if (commit === undefined) return undefined;
  const change = lsn('change_lsn');
  const serial = source.integer('event_serial_no');
  const text = [
    `commit_lsn ${source.string('commit_lsn')}`,
    change === undefined ? undefined : `change_lsn ${source.string('change_lsn')}`,
    serial === undefined ? undefined : `event_serial_no ${serial}`,
  ]
    .filter((s) => s !== undefined)
    .join(', ');
  return { connector: 'sqlserver', sortKey: [commit, change ?? 0n, serial ?? 0n], text };
}

function mysqlPosition(source: SourceFields): SourcePosition | undefined {
  const file = source.string('file');
  if (file === undefined || file === '') return undefined;
  const fileNumber = binlogFileNumber(file);
  if (fileNumber === undefined) fail(source.pathOf('file'), `expected a binlog file name ending in a number (mysql-bin.000003), found ${JSON.stringify(file)}`);
  const pos = source.integer('pos');
  if (pos === undefined) fail(source.pathOf('pos'), 'a binlog position needs pos');
  const row = source.integer('row') ?? 0n;
  return { connector: 'mysql', sortKey: [fileNumber, pos, row], text: `${file}:${pos} row ${row}` };
}

/**
 * The connector that wrote a source block: its `connector` field, else the source schema's name
 * (`io.debezium.connector.mysql.Source`), else the fields it has (`lsn` → postgresql,
 * `commit_lsn` → sqlserver, `file` and `pos` → mysql). Undefined when none says.
 */
export function connectorOf(source: SourceFields, sourceSchemaName?: string): string | undefined {
  const named = source.get('connector');
  if (typeof named === 'string' && named !== '') return named;
  const fromSchema = sourceSchemaName === undefined ? undefined : /^io\.debezium\.connector\.(\w+)\.Source$/.exec(sourceSchemaName)?.[1];
  if (fromSchema) return fromSchema;
  if (source.has('lsn') || source.has('sequence')) return 'postgresql';
  if (source.has('commit_lsn') || source.has('change_lsn')) return 'sqlserver';
  if (source.has('file') && source.has('pos')) return 'mysql';
  return undefined;
}

/** The broker's order, used when the source has no position of its own. */
export function brokerPosition(at: BrokerCoordinates): SourcePosition | undefined {
  if (at.partition === undefined || at.offset === undefined) return undefined;
  return { connector: 'broker', sortKey: [BigInt(at.partition), at.offset], text: `${at.topic} partition ${at.partition} offset ${at.offset}` };
}

/**
 * The position of an event from its source fields, or the broker position when they have none.
 * @throws {InvalidField} when a position field is malformed, or when there is neither a source
 * position nor a partition and offset (the event could not be ordered).
 */
export function sourcePosition(source: SourceFields, connector: string | undefined, at: BrokerCoordinates): SourcePosition {
  let position: SourcePosition | undefined;
  if (connector === 'postgresql') position = postgresPosition(source);
  else if (connector === 'sqlserver') position = sqlServerPosition(source);
  else if (connector === 'mysql' || connector === 'mariadb') position = mysqlPosition(source);
  position ??= brokerPosition(at);
  if (!position) {
    fail(source.path, `no position: the source fields hold no ${connector ?? 'known connector'} position and the record has no partition and offset`);
  }
  return position;
}
