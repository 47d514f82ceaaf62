/**
 * PostgreSQL log sequence numbers (LSNs): positions in the write-ahead log, in bytes. They are
 * `bigint` inside the program and strings (`16/B374D848`) only at the edges: logs, SQL
 * parameters of type pg_lsn, the CLI. Both the PostgreSQL source and the Debezium decoder (whose
 * PostgreSQL connector reports LSNs) read and write them.
 * @see https://www.postgresql.org/docs/current/datatype-pg-lsn.html
 */

/**
 * Parses PostgreSQL's textual LSN (`X/Y`, two hexadecimal 32-bit halves) into bytes of WAL.
 * @throws {Error} when the text is not of that form.
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
