/**
 * The error of the SQL Server DDL import: every problem found in a script is reported the same
 * way, as `file:line: …` with a remedy.
 */
import { CdcError } from '../errors.js';

/**
 * A SCHEMA_IMPORT_INVALID error at `file:line`: the message is prefixed with `file:line: `, the
 * context holds `file`, `line` and `extra` (e.g. `table`, `column`), `cause` is chained.
 */
export function scriptError(file: string, line: number, message: string, remedy: string, extra: Record<string, unknown> = {}, cause?: unknown): CdcError {
  return new CdcError('SCHEMA_IMPORT_INVALID', `${file}:${line}: ${message}`, { remedy, context: { file, line, ...extra }, cause });
}
