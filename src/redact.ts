/**
 * Redaction (issue 11, item 19): no password, token or row value in any log line, error message,
 * metric, status output, health body, or table cdc-merge writes (`error_log`, `dead_letter.error`,
 * `merge_log`, `merge_control.last_error`). Every place that renders or records an error passes its
 * text through {@link redactText}; the database side does the same with
 * `cdc_management.redact(text)`, built from the same rules ({@link redactFunctionSql}).
 *
 * What goes:
 * - secrets: the password of a URL (`postgres://u:***@h`), a NATS token (`nats://***@h`), and
 *   `password=`, `sslpassword=`, `token=`, `secret=`, `secret_access_key=`, … in a URL query, a
 *   libpq conninfo string or JSON (`"secretAccessKey": "…"`);
 * - row values in PostgreSQL's error texts: `Failing row contains (…)`, `Key (…)`, the rest of a
 *   COPY or JSON context line after `line N`, a quoted value after `: ` or after `value`,
 *   `string`, `read`, `found`, `Token`, `literal`, and the bytes of an encoding error.
 *
 * Identifiers PostgreSQL quotes (`relation "x"`, `column "x"`, `constraint "x"`) stay. The rules
 * are written in the regular-expression syntax JavaScript and PostgreSQL's AREs share (no lazy
 * quantifiers, no lookaround, `(?:.|\n)` for any character), so both sides redact alike;
 * src/redact.pg.test.ts compares them.
 * @see https://www.postgresql.org/docs/current/functions-matching.html#POSIX-SYNTAX-DETAILS
 */

/** One rewrite: `pattern` (JavaScript source = PostgreSQL ARE), `replacement` with `$n` for groups. */
interface Redaction {
  readonly pattern: string;
  readonly caseInsensitive: boolean;
  readonly replacement: string;
}

/** Names of query or conninfo parameters whose value is a secret. */
const SECRET_KEYS = 'password|passwd|pwd|sslpassword|token|auth_token|access_token|secret|secret_access_key|aws_secret_access_key|secretaccesskey|api_key|apikey';
/** What the redacted part of a value reads as. */
const HIDDEN = '***';
/** What a redacted row value reads as. */
const ELIDED = '…';
/** Any character, newline included, in both dialects (PostgreSQL's `.` matches newline, JavaScript's does not). */
const ANY = '(?:.|\\n)';

const RULES: readonly Redaction[] = [
  // scheme://user:password@host (a password may hold an unencoded @: up to the last one before a
  // space or the comma of a server list)
  { pattern: '([a-z][a-z0-9+.-]*://[^\\s/:@,]*):[^\\s,]*@', caseInsensitive: true, replacement: `$1:${HIDDEN}@` },
  // nats://token@host: NATS takes a lone user name as a token
  { pattern: '((?:nats|tls|ws|wss)://)[^\\s/:@]+@', caseInsensitive: true, replacement: `$1${HIDDEN}@` },
  // ?password=…&, password='…' (conninfo), %3D when encoded once more
  { pattern: `(^|[^a-z0-9_])(${SECRET_KEYS})(=|%3d)('[^']*'|[^\\s&'"]*)`, caseInsensitive: true, replacement: `$1$2$3${HIDDEN}` },
  // "password": "…" in JSON
  { pattern: `("(?:${SECRET_KEYS})"\\s*:\\s*)"[^"]*"`, caseInsensitive: true, replacement: `$1"${HIDDEN}"` },
  // PostgreSQL details that print the row or the key values
  { pattern: `Failing row contains ${ANY}*`, caseInsensitive: false, replacement: `Failing row contains (${ELIDED})` },
  { pattern: `(Key )\\(${ANY}*`, caseInsensitive: false, replacement: `$1(${ELIDED})` },
  // COPY t, line 3, column c: "value" / COPY t, line 3: "the line" / JSON data, line 1: …
  { pattern: `(, line [0-9]+)(?:, column |: )${ANY}*`, caseInsensitive: false, replacement: '$1' },
  // invalid input syntax for type integer: "value", malformed array literal: "…"
  { pattern: `(: )"${ANY}*"`, caseInsensitive: false, replacement: `$1"${ELIDED}"` },
  // value "…" is out of range, Token "…" is invalid, found string "…", cannot read "…" as …
  { pattern: `((?:value|string|read|found|Token|literal) )"${ANY}*"`, caseInsensitive: false, replacement: `$1"${ELIDED}"` },
  // invalid byte sequence for encoding "UTF8": 0x00 0x41; character with byte sequence 0x… in encoding
  { pattern: '(byte sequence for encoding "[^"\\n]*": )[^\\n]*', caseInsensitive: false, replacement: `$1${ELIDED}` },
  { pattern: '(character with byte sequence )[^\\n]*( in encoding)', caseInsensitive: false, replacement: `$1${ELIDED}$2` },
];

const COMPILED = RULES.map((r) => ({ regex: new RegExp(r.pattern, r.caseInsensitive ? 'gi' : 'g'), replacement: r.replacement }));

/**
 * `text` without secrets and row values (see the module comment). Idempotent:
 * `redactText('cannot connect to nats://u:pw@h:4222')` → `cannot connect to nats://u:***@h:4222`;
 * `redactText('invalid input syntax for type integer: "abc"')` → `…: "…"`.
 */
export function redactText(text: string): string {
  let out = text;
  for (const { regex, replacement } of COMPILED) out = out.replace(regex, replacement);
  return out;
}

/**
 * A value with every string in it passed through {@link redactText}, for structured logs: strings,
 * arrays and plain objects are copied; an `Error` becomes `{ type, message, code?, stack? }`
 * (redacted; a `pg` error's `detail`, `where` and `hint` too). Other values are returned as they are.
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const e = value as Error & Record<string, unknown>;
    const out: Record<string, unknown> = { type: e.name, message: redactText(e.message) };
    for (const key of ['code', 'detail', 'where', 'hint', 'stack'] as const) if (typeof e[key] === 'string') out[key] = redactText(e[key]);
    if (e.cause !== undefined) out.cause = redactValue(e.cause, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, depth + 1)]));
}

/** The message of an error (or the text of anything thrown), redacted. */
export function redactedMessage(error: unknown): string {
  return redactText(error instanceof Error ? error.message : String(error));
}

/**
 * `CREATE OR REPLACE FUNCTION <schema>.redact(text) RETURNS text`: {@link redactText} in SQL, the
 * same rules applied in the same order with `regexp_replace(…, 'g' | 'gi')`. IMMUTABLE, STRICT,
 * PARALLEL SAFE. `schema` is a quoted identifier.
 */
export function redactFunctionSql(schema: string): string {
  const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
  let expression = 'input';
  for (const r of RULES) {
    const replacement = r.replacement.replace(/\$(\d)/g, '\\$1');
    expression = `regexp_replace(${expression}, ${literal(r.pattern)}, ${literal(replacement)}, ${literal(r.caseInsensitive ? 'gi' : 'g')})`;
  }
  return [
    `CREATE OR REPLACE FUNCTION ${schema}.redact(input text) RETURNS text`,
    'LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE',
    `AS $cdc_redact$ SELECT ${expression} $cdc_redact$;`,
    `COMMENT ON FUNCTION ${schema}.redact(text) IS 'The text without passwords, tokens and row values (as cdc-merge''s redactText): what error_log, merge_log and merge_control keep of an error.';`,
  ].join('\n');
}
