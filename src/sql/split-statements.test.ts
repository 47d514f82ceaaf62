import { describe, expect, it } from 'vitest';
import { splitStatements } from './split-statements.js';

describe('splitStatements', () => {
  it('splits at top-level semicolons and keeps line numbers', () => {
    expect(splitStatements('SELECT 1;\n\nSELECT 2;\n-- trailing comment\n')).toEqual([
      { sql: 'SELECT 1', line: 1 },
      { sql: 'SELECT 2', line: 3 },
    ]);
  });

  it('ignores semicolons in strings, identifiers, comments and dollar-quoted bodies', () => {
    const text = [
      "INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y');",
      'CREATE TABLE "odd;name" (id int); /* c; /* nested; */ still; */',
      'CREATE PROCEDURE p() LANGUAGE plpgsql AS $body$ BEGIN PERFORM 1; END $body$;',
      'DO $$ BEGIN NULL; END $$;',
      '-- a; comment',
      'SELECT $1::text',
    ].join('\n');
    expect(splitStatements(text).map((s) => s.sql)).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y')",
      'CREATE TABLE "odd;name" (id int)',
      '/* c; /* nested; */ still; */\nCREATE PROCEDURE p() LANGUAGE plpgsql AS $body$ BEGIN PERFORM 1; END $body$',
      'DO $$ BEGIN NULL; END $$',
      '-- a; comment\nSELECT $1::text',
    ]);
  });
});
