/**
 * The canonical spelling of a source column type, shared by table files, the type-map data files
 * (their keys) and the SQL Server DDL import.
 * @see https://www.postgresql.org/docs/current/datatype.html
 * @see https://learn.microsoft.com/sql/t-sql/data-types/data-types-transact-sql
 */

/** The dialect a column type is written in. */
export type SourceDialect = 'mssql' | 'postgresql';

/** Tokens of a type spelling: quoted names, words and numbers, punctuation. */
const TOKEN = {
  mssql: /\s*(?:\[((?:[^\]]|\]\])*)\]|("(?:[^"]|"")*")|([^\s()[\],."]+)|([(),.]))/y,
  postgresql: /\s*(?:("(?:[^"]|"")*")|([^\s()[\],."]+)|([()[\],.]))/y,
};

/**
 * The canonical spelling of a source type, used in table files and as the key of the data files:
 * lower case, single spaces between words, no spaces around `(`, `)`, `,`, `.`, `[`, `]`, one
 * space after `)` when a word follows. `NVARCHAR(MAX)` → `nvarchar(max)`, `NUMERIC(10, 2)` →
 * `numeric(10,2)`, `TIMESTAMP (3) WITH TIME ZONE` → `timestamp(3) with time zone`,
 * `INTEGER [ ]` → `integer[]`.
 *
 * SQL Server: `[bracketed]` and `"quoted"` names lose their quotes (`[nvarchar](10)` →
 * `nvarchar(10)`); type names are case-insensitive there. PostgreSQL: `"quoted"` names are kept
 * as written (`"char"`), and `[` `]` are array brackets. Aliases are not resolved
 * (`int4` stays `int4`): that is {@link mapColumnType}'s job. Never throws; text that is not a
 * type spelling is only lower-cased with its spaces collapsed.
 */
export function normalizeSourceType(dialect: SourceDialect, sourceType: string): string {
  const re = TOKEN[dialect];
  re.lastIndex = 0;
  const text = sourceType.trim();
  let out = '';
  let previous: 'word' | 'punct' | ')' | undefined;
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) return text.toLowerCase().replace(/\s+/g, ' ');
    // Same group layout for both dialects: [bracketed] (SQL Server only), "quoted", word, punctuation.
    const [, bracketed, quoted, word, punct] = dialect === 'mssql' ? m : [m[0], undefined, m[1], m[2], m[3]];
    let piece: string;
    if (punct !== undefined) piece = punct;
    else if (dialect === 'postgresql') piece = quoted ?? word!.toLowerCase();
    else piece = (bracketed?.replaceAll(']]', ']') ?? quoted?.slice(1, -1).replaceAll('""', '"') ?? word!).toLowerCase();
    const kind = punct === undefined ? 'word' : punct === ')' ? ')' : 'punct';
    if (kind === 'word' && (previous === 'word' || previous === ')')) out += ' ';
    out += piece;
    previous = kind;
  }
  return out;
}

