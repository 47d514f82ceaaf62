/**
 * Whether a column type change only widens the column: every value the old type holds is held,
 * unchanged, by the new one, so converting the target column loses nothing and fails for no row.
 * What `diffTable` uses to call a type change `info` instead of `breaking` (DESIGN.md §5).
 *
 * Types are PostgreSQL type names as `format_type()` spells them (`character varying(40)`,
 * `timestamp(3) without time zone`, `integer[]`); the usual aliases (`varchar`, `int4`,
 * `timestamptz`, `decimal`, `float8`, …) are accepted too.
 * @see https://www.postgresql.org/docs/current/datatype.html
 */

/** A type reduced to what decides widening. */
type ParsedType =
  | { readonly family: 'integer'; readonly rank: number; readonly digits: number }
  | { readonly family: 'float'; readonly rank: number }
  /** `precision` Infinity: unconstrained `numeric` (any value, any scale). */
  | { readonly family: 'numeric'; readonly precision: number; readonly scale: number }
  /** `length` Infinity: `text` or unbounded `character varying`. */
  | { readonly family: 'varchar'; readonly length: number }
  /** Fractional-second digits (0–6; 6 when unspecified), per time zone flavour. */
  | { readonly family: 'timestamp' | 'timestamptz' | 'time' | 'timetz'; readonly precision: number }
  | { readonly family: 'other'; readonly name: string };

/** Integer types by width: rank and the decimal digits their largest value needs. */
const INTEGERS: Readonly<Record<string, { rank: number; digits: number }>> = {
  smallint: { rank: 1, digits: 5 },
  int2: { rank: 1, digits: 5 },
  integer: { rank: 2, digits: 10 },
  int: { rank: 2, digits: 10 },
  int4: { rank: 2, digits: 10 },
  bigint: { rank: 3, digits: 19 },
  int8: { rank: 3, digits: 19 },
};

const FLOATS: Readonly<Record<string, number>> = { real: 1, float4: 1, 'double precision': 2, float8: 2 };

/** PostgreSQL's default (and maximum) fractional-second precision of time and timestamp types. */
const DEFAULT_TIME_PRECISION = 6;

function parseType(text: string): ParsedType {
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\s*\(\s*/g, '(').replace(/\s*,\s*/g, ',').replace(/\s*\)/g, ')');
  const integer = INTEGERS[t];
  if (integer) return { family: 'integer', ...integer };
  const float = FLOATS[t];
  if (float !== undefined) return { family: 'float', rank: float };
  const numeric = /^(?:numeric|decimal)(?:\((\d+)(?:,(\d+))?\))?$/.exec(t);
  if (numeric) {
    return numeric[1] === undefined
      ? { family: 'numeric', precision: Infinity, scale: 0 }
      : { family: 'numeric', precision: Number(numeric[1]), scale: Number(numeric[2] ?? 0) };
  }
  if (t === 'text') return { family: 'varchar', length: Infinity };
  const varchar = /^(?:character varying|varchar)(?:\((\d+)\))?$/.exec(t);
  if (varchar) return { family: 'varchar', length: varchar[1] === undefined ? Infinity : Number(varchar[1]) };
  const time = /^(timestamp|time)(?:\((\d)\))?(?: (with|without) time zone)?$/.exec(t) ?? /^(timestamptz|timetz)(?:\((\d)\))?()$/.exec(t);
  if (time) {
    const zoned = time[1]!.endsWith('tz') || time[3] === 'with';
    const base = time[1]!.startsWith('timestamp') ? 'timestamp' : 'time';
    const precision = time[2] === undefined ? DEFAULT_TIME_PRECISION : Number(time[2]);
    return { family: zoned ? (`${base}tz` as const) : base, precision };
  }
  return { family: 'other', name: t };
}

/** Array dimensions (`integer[][]` → 2) and the element type. */
function splitArray(text: string): { element: string; dimensions: number } {
  let element = text.trim();
  let dimensions = 0;
  for (let m = /\[\d*\]$/.exec(element); m; m = /\[\d*\]$/.exec(element)) {
    element = element.slice(0, m.index).trimEnd();
    dimensions++;
  }
  return { element, dimensions };
}

function widensElement(from: ParsedType, to: ParsedType): boolean {
  switch (from.family) {
    case 'integer':
      if (to.family === 'integer') return to.rank >= from.rank;
      // numeric holds any integer whose digits fit left of its decimal point.
      return to.family === 'numeric' && to.precision - to.scale >= from.digits;
    case 'float':
      return to.family === 'float' && to.rank >= from.rank;
    case 'numeric':
      if (to.family !== 'numeric') return false;
      // Same scale, at least the precision; or unconstrained numeric, which holds every value.
      return to.precision === Infinity || (from.precision !== Infinity && to.scale === from.scale && to.precision >= from.precision);
    case 'varchar':
      return to.family === 'varchar' && to.length >= from.length;
    case 'timestamp':
    case 'timestamptz':
    case 'time':
    case 'timetz':
      return to.family === from.family && to.precision >= from.precision;
    case 'other':
      return to.family === 'other' && to.name === from.name;
  }
}

/**
 * True when changing a column from type `from` to type `to` keeps every value as it is:
 * - integers to a wider integer (`smallint` → `integer` → `bigint`) or to a `numeric` with room
 *   for all their digits;
 * - `real` → `double precision`;
 * - `numeric(p,s)` → `numeric(q,s)` with q ≥ p (same scale), or to unconstrained `numeric`;
 * - `character varying(n)` → `character varying(m)` with m ≥ n, unbounded `character varying`
 *   or `text` (and between those two);
 * - `timestamp`, `timestamptz`, `time`, `timetz` to more fractional-second digits, same time
 *   zone flavour (unspecified precision is 6);
 * - the same element rules for arrays of equal dimensions;
 * - the same type spelt differently (`int4` and `integer`).
 *
 * Everything else (narrowing, a change of family, `character(n)`, other scales) is false: the
 * conversion may fail, round, truncate or change values.
 */
export function isWideningTypeChange(from: string, to: string): boolean {
  const a = splitArray(from);
  const b = splitArray(to);
  if (a.dimensions !== b.dimensions) return false;
  return widensElement(parseType(a.element), parseType(b.element));
}
