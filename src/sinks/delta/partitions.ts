/**
 * Partitioned Delta tables (`partition_by`): which column types may partition a table, how a
 * partition value is written in `partitionValues` and in a directory name, and read back.
 * Partition columns are not stored in data files; readers take them from `partitionValues`.
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md#partition-value-serialization
 */
import { CdcError } from '../../errors.js';
import type { LakeType, LakeValue } from '../lake/parquet.js';
import { isoDate } from './file-stats.js';

/** The directory name of a null partition value (Hive's, which Delta readers know). */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

const PARTITION_KINDS = new Set<LakeType['kind']>(['int16', 'int32', 'int64', 'string', 'date', 'bool']);

/**
 * Checks that `column` may partition a table.
 * @throws {CdcError} DELTA_PARTITION_INVALID naming the table and column when it is missing or of
 *   another type than smallint, integer, bigint, a text type, date or boolean.
 */
export function checkPartitionColumn(table: string, column: string, type: LakeType | undefined): void {
  if (!type) {
    throw new CdcError('DELTA_PARTITION_INVALID', `partition_by of ${table} names ${column}, which the table does not have`, { remedy: 'name a column of the source table' });
  }
  if (!PARTITION_KINDS.has(type.kind)) {
    throw new CdcError('DELTA_PARTITION_INVALID', `partition_by of ${table}: column ${column} is ${type.kind}; partition columns may be integers, text, dates or booleans`, {
      remedy: 'partition by another column, or leave partition_by out for this table',
    });
  }
}

/** A partition value as `partitionValues` holds it (null for SQL NULL). */
export function serializePartitionValue(type: LakeType, value: LakeValue): string | null {
  if (value === null) return null;
  switch (type.kind) {
    case 'date':
      return isoDate(value as number) ?? null;
    case 'bool':
      return value ? 'true' : 'false';
    case 'int64':
      return (value as bigint).toString();
    default:
      return typeof value === 'number' || typeof value === 'string' ? String(value) : null;
  }
}

/** The value of a `partitionValues` entry. */
export function parsePartitionValue(type: LakeType, text: string | null | undefined): LakeValue {
  if (text === null || text === undefined) return null;
  switch (type.kind) {
    case 'int16':
    case 'int32':
      return Number(text);
    case 'int64':
      return BigInt(text);
    case 'date':
      return Math.round(Date.parse(`${text}T00:00:00Z`) / 86_400_000);
    case 'bool':
      return text === 'true';
    default:
      return text;
  }
}

/** A name or value as a directory name part: characters other than letters, digits, `_.-` as %XX of their UTF-8 bytes. */
function escapePathPart(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The directory of a partition, `col=value/col2=value2` (on storage, not URI-encoded). */
export function partitionDirectory(values: readonly [string, string | null][]): string {
  return values.map(([column, value]) => `${escapePathPart(column)}=${value === null ? NULL_PARTITION : escapePathPart(value)}`).join('/');
}

/** A storage path as an `add`/`remove`/`cdc` path: a relative URI (`%` itself encoded). */
export function pathToUri(path: string): string {
  return path.replaceAll('%', '%25');
}

/** The storage path of an action's URI path. */
export function uriToPath(uri: string): string {
  return decodeURIComponent(uri);
}
