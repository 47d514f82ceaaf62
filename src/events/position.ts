/**
 * Positions: the total order of changes (DESIGN.md §3.1).
 *
 * For PostgreSQL a change's position is (commit LSN of its transaction, ordinal within the
 * transaction). LSNs are `bigint` inside the program and strings (`16/B374D848`) only at the
 * edges: logs, SQL parameters of type pg_lsn, the CLI.
 */

/** A change's place in the source's total order. Compare with {@link comparePositions}. */
export interface Position {
  /** Commit LSN of the source transaction (PostgreSQL), in bytes of WAL. */
  readonly lsn: bigint;
  /** 0-based ordinal of the change within its transaction. */
  readonly ordinal: number;
}

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function comparePositions(a: Position, b: Position): number {
  if (a.lsn !== b.lsn) return a.lsn < b.lsn ? -1 : 1;
  return a.ordinal - b.ordinal;
}

/**
 * Parses PostgreSQL's textual LSN (`X/Y`, two hexadecimal 32-bit halves) into bytes of WAL.
 * @throws {Error} when the text is not of that form.
 * @see https://www.postgresql.org/docs/current/datatype-pg-lsn.html
 */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not an LSN: ${JSON.stringify(text)} (expected two hexadecimal halves, e.g. 16/B374D848)`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Renders bytes of WAL as PostgreSQL's textual LSN (`X/Y`, upper-case hexadecimal). */
export function formatLsn(lsn: bigint): string {
  const hi = lsn >> 32n;
  const lo = lsn & 0xffffffffn;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}
