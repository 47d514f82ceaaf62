/**
 * Reads the tables of a SQL Server DDL script (`cdc schema import`): SSMS "Script Table as",
 * sqlpackage or hand-written scripts with `GO` batches, `IF … BEGIN … END`, `USE`, indexes,
 * foreign keys and thousands of `INSERT`s, of which only the tables are kept.
 *
 * How it works:
 * 1. A T-SQL lexer ({@link tokenize}, in `tsql-lexer.ts`) cuts the whole script into tokens,
 *    skipping comments (nested block comments included) and treating strings, `[bracketed]` and
 *    `"quoted"` names as units. It finds `CREATE TABLE` and `ALTER TABLE … ADD … PRIMARY KEY |
 *    DEFAULT` statements; everything else is passed over without being parsed.
 * 2. Each of those statements is parsed by node-sql-parser (`transactsql` dialect), which gives
 *    the table and column names, NULL / NOT NULL, IDENTITY and the primary key. Its T-SQL
 *    grammar knows a fixed list of type names, few DEFAULT expressions and not every clause, so
 *    it gets a rewritten copy of the statement ({@link parserView}, in `tsql-parser-view.ts`):
 *    column types become `int` and DEFAULT expressions `0` (both are read from the tokens
 *    instead, in the script's own spelling); clauses cdc-merge does not import are cut out (the
 *    names of column constraints, CLUSTERED, foreign keys, UNIQUE / CHECK / INDEX table
 *    elements, computed columns, ROWGUIDCOL, SPARSE, NOT FOR REPLICATION, …); names it cannot
 *    read (`[a]]b]`, unbracketed non-ASCII) become placeholders. Its errors are mapped back to
 *    file:line, and its AST is read, in `tsql-ast.ts`.
 * 3. This module reads the statements into tables: CREATE TABLE bodies, primary keys and
 *    defaults added by ALTER TABLE, and the checks across statements.
 *
 * Rules of SQL Server followed: a column without NULL / NOT NULL is nullable (ANSI_NULL_DFLT_ON,
 * which SSMS and the ODBC, OLE DB and .NET drivers turn on), except primary-key, IDENTITY and
 * sysname columns, which are NOT NULL; an unqualified table is in `dbo`; names compare
 * case-insensitively (the default collations).
 * @see https://learn.microsoft.com/sql/t-sql/statements/create-table-transact-sql
 * @see https://learn.microsoft.com/sql/t-sql/language-elements/sql-server-utilities-statements-go
 */
import { CdcError } from '../errors.js';
import { scriptError } from './mssql-import-error.js';
import { asArray, asObject, identityValue, keyColumns, parseStatement, tableName } from './tsql-ast.js';
import { dottedName, expressionText, isName, isPunct, isWord, matching, tokenize, type Token } from './tsql-lexer.js';
import { parserView, placeholderEdits, readColumn, type ColumnTokens, type Edit } from './tsql-parser-view.js';

/** One column of an imported table. */
export interface ImportedColumn {
  /** Column name as declared (brackets and quotes removed, case kept). */
  readonly name: string;
  /** Source type, normalized by `normalizeSourceType('mssql', …)`: `nvarchar(160)`, `int`, `numeric(10,2)`, `nvarchar(max)`. */
  readonly type: string;
  /** False for NOT NULL, for IDENTITY columns and for primary-key columns. */
  readonly nullable: boolean;
  /** IDENTITY(seed, increment); IDENTITY without arguments is (1, 1). */
  readonly identity?: { readonly seed: number; readonly increment: number };
  /** Default expression as written in the script, outer parentheses removed: `getdate()`, `N'x'`, `0`. */
  readonly default?: string;
}

/** One table created by the script. */
export interface ImportedTable {
  /** Schema; `dbo` when the name is not qualified. A database part (`db.dbo.T`) is dropped. */
  readonly schema: string;
  readonly name: string;
  /** Columns in declaration order; computed columns are left out (with a warning). */
  readonly columns: readonly ImportedColumn[];
  /** Primary-key column names in key order (spelled as the columns declare them); empty when none. */
  readonly primaryKey: readonly string[];
  /** 1-based line of the `CREATE TABLE` in the file. */
  readonly line: number;
}

/** Parts of a CREATE TABLE body: a column, the primary key, or another table element. */
interface Element {
  readonly kind: 'column' | 'computed' | 'primary key' | 'other';
  /** Tokens from its first to its last, without the separating commas. */
  readonly from: number;
  readonly to: number;
  /** Column name (unquoted), for messages. */
  readonly column?: string;
}

/** A table being imported, mutable until the end of the script. */
interface Draft {
  readonly schema: string;
  readonly name: string;
  readonly columns: (ImportedColumn & { readonly explicitNull: boolean })[];
  primaryKey: string[];
  readonly line: number;
}

/** The script being imported and what has been found so far. */
interface Script {
  readonly text: string;
  readonly file: string;
  readonly tokens: readonly Token[];
  readonly warnings: string[];
  /** By lower-cased `schema NUL name`: SQL Server compares names case-insensitively. */
  readonly tables: Map<string, Draft>;
}

const tableKey = (schema: string, name: string) => `${schema.toLowerCase()}\u0000${name.toLowerCase()}`;

/** The elements of the CREATE TABLE body between the `(` at `open` and its `)` at `close`, and the separating commas. */
function splitElements(tokens: readonly Token[], open: number, close: number): { elements: Element[]; commas: number[] } {
  const elements: Element[] = [];
  const commas: number[] = [];
  let from = open + 1;
  for (let i = open + 1; i <= close; i++) {
    if (isPunct(tokens[i], '(')) {
      i = matching(tokens, i);
      continue;
    }
    if (!isPunct(tokens[i], ',') && i !== close) continue;
    if (i > from) {
      const head = tokens[from]!;
      let kind: Element['kind'] = 'column';
      if (isWord(head, 'CONSTRAINT')) kind = isWord(tokens[from + 2], 'PRIMARY') ? 'primary key' : 'other';
      else if (isWord(head, 'PRIMARY')) kind = 'primary key';
      else if (isWord(head, 'UNIQUE', 'FOREIGN', 'CHECK', 'INDEX', 'PERIOD')) kind = 'other';
      else if (isWord(tokens[from + 1], 'AS')) kind = 'computed';
      elements.push({ kind, from, to: i - 1, ...(kind === 'column' || kind === 'computed' ? { column: head.value } : {}) });
    }
    if (i < close) commas.push(i);
    from = i + 1;
  }
  return { elements, commas };
}

/** Reads the CREATE TABLE whose `CREATE` is `tokens[first]` into `script.tables`; returns the index of its last token. */
function createTable(script: Script, first: number): number {
  const { text, file, tokens, warnings } = script;
  const line = tokens[first]!.line;
  const named = dottedName(tokens, first + 2);
  const table = named.parts.join('.');
  if (named.parts.length === 0) throw scriptError(file, line, 'CREATE TABLE without a table name', 'write CREATE TABLE schema.name (…)');
  if (named.parts.at(-1)!.startsWith('#')) {
    warnings.push(`${file}:${line}: temporary table ${table} skipped`);
    return named.next - 1;
  }
  const open = named.next;
  if (!isPunct(tokens[open], '(')) {
    throw scriptError(file, line, `CREATE TABLE ${table}: expected "(" and the column list after the name`, 'write CREATE TABLE name (column type, …)', { table });
  }
  const close = matching(tokens, open);
  if (!isPunct(tokens[close], ')')) {
    const before = close < tokens.length ? `GO at line ${tokens[close]!.line}` : 'the end of the file';
    throw scriptError(file, line, `CREATE TABLE ${table}: the column list is not closed before ${before}`, 'add the missing ")"', { table });
  }
  const { elements, commas } = splitElements(tokens, open, close);
  if (!elements.some((e) => e.kind === 'column')) {
    throw scriptError(file, line, `CREATE TABLE ${table} has no columns cdc-merge can import`, 'declare at least one column with a type', { table });
  }
  // The parser's copy: kept elements (columns, primary key) rewritten, the others cut out with
  // their commas (one comma stays between consecutive kept elements).
  const edits: Edit[] = [];
  const columns: ColumnTokens[] = [];
  const kept = elements.filter((e) => e.kind === 'column' || e.kind === 'primary key');
  for (const e of elements) {
    if (e.kind === 'column') {
      const read = readColumn(text, tokens, e.from, e.to);
      if (typeof read === 'string') {
        throw scriptError(file, tokens[e.from]!.line, `column ${JSON.stringify(e.column)} of table ${table} ${read}`, 'give the column a type: name type [NULL | NOT NULL] …', { table, column: e.column });
      }
      columns.push(read);
      edits.push(...read.edits);
    } else if (e.kind !== 'primary key') {
      edits.push({ start: tokens[e.from]!.start, end: tokens[e.to]!.end, text: ' ' });
    }
  }
  const keepCommas = new Set(kept.slice(0, -1).map((e) => commas.find((c) => c > e.to)));
  for (const c of commas) if (!keepCommas.has(c)) edits.push({ start: tokens[c]!.start, end: tokens[c]!.end, text: ' ' });
  // Placeholders last: where an edit above starts at the same token, that edit wins.
  const names = new Map<string, string>();
  edits.push(...placeholderEdits(tokens, first, close, names));
  const view = parserView(text, tokens[first]!.start, tokens[close]!.end, edits);
  const elementAt = (offset: number) => elements.find((e) => tokens[e.from]!.start <= offset && offset < (tokens[e.to + 1] ?? tokens[e.to]!).end);
  const ast = parseStatement(view, { text, file, tokens, first, last: close, table, what: `table ${table}`, elementAt });

  const id = tableName(ast, names);
  const where = `${id.schema}.${id.name}`;
  const draft: Draft = { ...id, columns: [], primaryKey: [], line };
  const setKey = (key: string[], at: number) => {
    if (draft.primaryKey.length > 0) throw scriptError(file, at, `table ${where} has two primary keys`, 'keep one PRIMARY KEY', { table: where });
    draft.primaryKey = key;
  };
  for (const e of elements) {
    if (e.kind === 'computed') warnings.push(`${file}:${tokens[e.from]!.line}: column ${JSON.stringify(e.column)} of table ${where} is computed (AS …): not imported`);
  }
  let c = 0;
  for (const [k, def] of asArray(ast.create_definitions).map(asObject).entries()) {
    const at = tokens[kept[k]?.from ?? first]!.line;
    if (def?.resource === 'column') {
      const ref = asObject(def.column)?.column;
      const name = typeof ref === 'string' ? (names.get(ref) ?? ref) : String(kept[k]?.column);
      const read = columns[c++]!;
      const nullable = asObject(def.nullable)?.type;
      const identity = asObject(def.auto_increment);
      if (draft.columns.some((col) => col.name.toLowerCase() === name.toLowerCase())) {
        throw scriptError(file, at, `column ${JSON.stringify(name)} appears twice in table ${where}`, 'remove or rename one of them', { table: where, column: name });
      }
      draft.columns.push({
        name,
        type: read.type,
        // sysname is NOT NULL unless declared NULL; IDENTITY columns are always NOT NULL.
        nullable: identity === undefined && (nullable === 'null' || (nullable === undefined && read.type !== 'sysname')),
        explicitNull: nullable === 'null',
        ...(identity ? { identity: { seed: identityValue(identity.seed, 1), increment: identityValue(identity.increment, 1) } } : {}),
        ...(read.default !== undefined ? { default: read.default } : {}),
      });
      if (def.primary_key) setKey([name], at);
    } else if (def?.constraint_type === 'primary key') {
      setKey(keyColumns(def, names), at);
    }
  }
  const earlier = script.tables.get(tableKey(id.schema, id.name));
  if (earlier) throw scriptError(file, line, `table ${where} is created twice (first at line ${earlier.line})`, 'keep one CREATE TABLE per table', { table: where });
  script.tables.set(tableKey(id.schema, id.name), draft);
  return close;
}

/**
 * Reads `ALTER TABLE t ADD [CONSTRAINT name] DEFAULT expr FOR column` (how SSMS scripts
 * defaults), `ALTER` at `tokens[first]`, `DEFAULT` at `tokens[at]`. Returns the index of the
 * last token it read.
 */
function alterDefault(script: Script, first: number, at: number, edits: Edit[]): number {
  const { text, file, tokens, warnings } = script;
  const line = tokens[first]!.line;
  let forAt = at + 1;
  while (forAt < tokens.length && !isWord(tokens[forAt], 'FOR') && tokens[forAt]!.kind !== 'go' && !isPunct(tokens[forAt], ';')) {
    forAt = isPunct(tokens[forAt], '(') ? matching(tokens, forAt) + 1 : forAt + 1;
  }
  const table = dottedName(tokens, first + 2).parts.join('.');
  const expression = expressionText(text, tokens, at + 1, forAt - 1);
  if (!isWord(tokens[forAt], 'FOR') || !isName(tokens[forAt + 1]) || expression === undefined) {
    throw scriptError(file, line, `cannot parse a default of table ${table}: expected DEFAULT expression FOR column`, 'write ALTER TABLE t ADD CONSTRAINT name DEFAULT (expression) FOR column', { table });
  }
  edits.push({ start: tokens[at + 1]!.start, end: tokens[forAt - 1]!.end, text: ' 0 ' });
  const names = new Map<string, string>();
  edits.push(...placeholderEdits(tokens, first, forAt + 1, names));
  const view = parserView(text, tokens[first]!.start, tokens[forAt + 1]!.end, edits);
  const ast = parseStatement(view, { text, file, tokens, first, last: forAt + 1, table, what: `a default of table ${table}` });
  const id = tableName(ast, names);
  const where = `${id.schema}.${id.name}`;
  const target = asObject(asObject(asArray(ast.expr)[0])?.create_definitions)?.for;
  const column = typeof target === 'string' ? (names.get(target) ?? target) : tokens[forAt + 1]!.value;
  const draft = script.tables.get(tableKey(id.schema, id.name));
  const index = draft?.columns.findIndex((c) => c.name.toLowerCase() === column.toLowerCase()) ?? -1;
  if (!draft || index < 0) {
    warnings.push(`${file}:${line}: default for column ${JSON.stringify(column)} of table ${where}: ${draft ? 'no such column' : 'the table is not created in this script'}; ignored`);
  } else if (draft.columns[index]!.default !== undefined) {
    throw scriptError(file, line, `column ${JSON.stringify(column)} of table ${where} already has a default`, 'keep one DEFAULT per column', { table: where, column });
  } else {
    draft.columns[index] = { ...draft.columns[index]!, default: expression };
  }
  return forAt + 1;
}

/**
 * Reads an `ALTER TABLE … ADD [CONSTRAINT name] PRIMARY KEY (…)` whose `ALTER` is
 * `tokens[first]`, and defaults ({@link alterDefault}); warns about an `ALTER TABLE … ADD
 * <column>`; passes over any other ALTER TABLE. Returns the index of the last token it read.
 */
function alterTable(script: Script, first: number): number {
  const { text, file, tokens, warnings } = script;
  const line = tokens[first]!.line;
  const named = dottedName(tokens, first + 2);
  const table = named.parts.join('.');
  let i = named.next;
  const edits: Edit[] = [];
  if (isWord(tokens[i], 'WITH') && isWord(tokens[i + 1], 'CHECK', 'NOCHECK')) {
    edits.push({ start: tokens[i]!.start, end: tokens[i + 1]!.end, text: ' ' });
    i += 2;
  }
  if (!isWord(tokens[i], 'ADD')) return i - 1;
  const kind = isWord(tokens[i + 1], 'CONSTRAINT') ? i + 3 : i + 1;
  if (isWord(tokens[kind], 'DEFAULT')) return alterDefault(script, first, kind, edits);
  if (!isWord(tokens[kind], 'PRIMARY')) {
    if (isName(tokens[i + 1]) && !isWord(tokens[i + 1], 'CONSTRAINT', 'UNIQUE', 'FOREIGN', 'CHECK', 'DEFAULT', 'INDEX', 'PERIOD')) {
      warnings.push(`${file}:${line}: ALTER TABLE ${table} ADD ${tokens[i + 1]!.value}: columns added by ALTER TABLE are not imported; add them to the CREATE TABLE`);
    }
    return i;
  }
  const open = isWord(tokens[kind + 2], 'CLUSTERED', 'NONCLUSTERED') ? kind + 3 : kind + 2;
  const close = isPunct(tokens[open], '(') ? matching(tokens, open) : open;
  if (!isPunct(tokens[close], ')')) {
    throw scriptError(file, line, `cannot parse the primary key of table ${table}: expected (column, …)`, 'write ALTER TABLE t ADD CONSTRAINT name PRIMARY KEY (column, …)', { table });
  }
  const names = new Map<string, string>();
  edits.push(...placeholderEdits(tokens, first, close, names));
  const view = parserView(text, tokens[first]!.start, tokens[close]!.end, edits);
  const ast = parseStatement(view, { text, file, tokens, first, last: close, table, what: `the primary key of table ${table}` });
  const id = tableName(ast, names);
  const where = `${id.schema}.${id.name}`;
  const draft = script.tables.get(tableKey(id.schema, id.name));
  if (!draft) {
    warnings.push(`${file}:${line}: primary key of table ${where}: the table is not created in this script; ignored`);
  } else if (draft.primaryKey.length > 0) {
    throw scriptError(file, line, `table ${where} already has a primary key (CREATE TABLE at line ${draft.line})`, 'keep one PRIMARY KEY', { table: where });
  } else {
    draft.primaryKey = keyColumns(asObject(asObject(asArray(ast.expr)[0])?.create_definitions) ?? {}, names);
  }
  return close;
}

/**
 * Imports the tables of a SQL Server DDL script.
 *
 * Reads every `CREATE TABLE` (permanent tables; `#temp` tables are skipped with a warning), and
 * every later `ALTER TABLE … ADD [CONSTRAINT …] PRIMARY KEY (…)` and `ALTER TABLE … ADD
 * [CONSTRAINT …] DEFAULT … FOR column` (SSMS scripts add defaults that way); all other statements
 * are skipped. Column types are returned in the source spelling, normalized
 * (`NVARCHAR (160)` → `nvarchar(160)`); mapping them to PostgreSQL is `mapColumnType`'s job.
 *
 * @param text the script (UTF-8 text; a byte-order mark is ignored)
 * @param file its path, for messages
 * @returns the tables in script order, and warnings (`file:line: …`) for what was left out:
 *   computed columns, temporary tables, columns added by ALTER TABLE, a primary key or default
 *   for a table (or column) the script does not create, a NULL primary-key column (imported as
 *   NOT NULL)
 * @throws {CdcError} SCHEMA_IMPORT_INVALID with `file:line: …` naming the table (and column)
 *   when a CREATE TABLE or a primary key cannot be parsed, a table is created twice, a column
 *   appears twice, a key names a missing column, a table gets two primary keys or a column two
 *   defaults, a string, name or comment is not closed; or `file: no CREATE TABLE …` when the
 *   script creates no table
 */
export function importMssqlDdl(text: string, file: string): { tables: ImportedTable[]; warnings: string[] } {
  const tokens = tokenize(text, file);
  const script: Script = { text, file, tokens, warnings: [], tables: new Map() };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'word' || !isWord(tokens[i + 1], 'TABLE')) continue;
    if (t.upper === 'CREATE') i = createTable(script, i);
    else if (t.upper === 'ALTER') i = alterTable(script, i);
  }
  if (script.tables.size === 0) {
    throw new CdcError('SCHEMA_IMPORT_INVALID', `${file}: no CREATE TABLE statement found (temporary tables are skipped)`, {
      remedy: 'pass a script with CREATE TABLE statements, e.g. one generated by SSMS "Script Table as → CREATE To"',
      context: { file },
    });
  }
  const tables = [...script.tables.values()].map((draft): ImportedTable => {
    const where = `${draft.schema}.${draft.name}`;
    const primaryKey = draft.primaryKey.map((k) => {
      const column = draft.columns.find((c) => c.name.toLowerCase() === k.toLowerCase());
      if (!column) {
        throw scriptError(file, draft.line, `the primary key of table ${where} names ${JSON.stringify(k)}, which is not a column of the table`, 'fix the column name in the PRIMARY KEY', { table: where, column: k });
      }
      return column.name;
    });
    const columns = draft.columns.map(({ explicitNull, ...c }): ImportedColumn => {
      if (!primaryKey.includes(c.name)) return c;
      if (explicitNull) script.warnings.push(`${file}:${draft.line}: column ${JSON.stringify(c.name)} of table ${where} is declared NULL but is part of the primary key: imported as NOT NULL`);
      return { ...c, nullable: false };
    });
    return { schema: draft.schema, name: draft.name, columns, primaryKey, line: draft.line };
  });
  return { tables, warnings: script.warnings };
}
