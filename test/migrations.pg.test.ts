/**
 * Schema as code end to end, through the built `cdc` binary as a new user would run it (issue #3):
 * Chinook's SQL Server DDL → YAML → migrations (snake_case, dbo → public) → applied → every
 * INSERT of Chinook_PostgreSql.sql loads into the generated tables; then definition changes
 * through diff --write onto a database with data; a hand-edited file; concurrent applies.
 */
import { cpSync, existsSync, mkdtempSync, rmSync as removeFile, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chinookScriptPath, loadChinook } from '../src/demo/chinook.js';
import { splitStatements } from '../src/sql/split-statements.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { APPLY_LOCK_KEY } from '../src/migrations/apply.js';
import { runCli, startCli } from './support/cli.js';

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const MSSQL_SCRIPT = fileURLToPath(new URL('../../shared/data/chinook/Chinook_SqlServer.sql', import.meta.url));
const TABLES = ['album', 'artist', 'customer', 'employee', 'genre', 'invoice', 'invoice_line', 'media_type', 'playlist', 'playlist_track', 'track'];

let cluster: ThrowawayCluster;
let root: string;
let project: string;
let config: string;
let env: NodeJS.ProcessEnv;

async function query<T extends pg.QueryResultRow>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const cdc = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli([...args, '--config', config], { ...env, ...extraEnv });

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'migrations' });
  env = { PG_DEV_HOST: '127.0.0.1', PG_DEV_PORT: String(cluster.port), PG_DEV_USER: 'postgres', PG_CI_HOST: '127.0.0.1', PG_CI_PORT: String(cluster.port), PG_CI_USER: 'postgres' };
  root = mkdtempSync(join(tmpdir(), 'cdc-project-'));
  project = join(root, 'shop');
  config = join(project, 'cdc.yaml');
});
afterAll(async () => {
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('Chinook round trip: SQL Server DDL → YAML → migrations → PostgreSQL', () => {
  it('cdc init creates a commented project', async () => {
    const r = await runCli(['init', project, '--service', 'chinook', '--dialect', 'mssql']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(config, 'utf8')).toMatch(/naming: snake_case/);
  });

  it('cdc schema import writes one YAML file per table', async () => {
    const r = await cdc(['schema', 'import', '--dialect', 'mssql', '--service', 'chinook', MSSQL_SCRIPT]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(join(project, 'schemas', 'chinook', 'dbo')).sort();
    expect(files).toEqual(['Album', 'Artist', 'Customer', 'Employee', 'Genre', 'Invoice', 'InvoiceLine', 'MediaType', 'Playlist', 'PlaylistTrack', 'Track'].map((t) => `${t}.yaml`));
    const invoice = readFileSync(join(project, 'schemas', 'chinook', 'dbo', 'Invoice.yaml'), 'utf8');
    expect(invoice).toMatch(/name: BillingPostalCode\n\s+type: nvarchar\(10\)/);
    expect(invoice).toMatch(/name: Total\n\s+type: numeric\(10,2\)\n\s+nullable: false/);
  });

  it('cdc migrations generate is deterministic', async () => {
    const dry = await cdc(['migrations', 'generate', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would write .*01-tables\/invoice_line\.sql \(new\)/);
    expect(existsSync(join(project, 'migrations', 'postgres', 'manifest.yaml'))).toBe(false);
    const first = await cdc(['migrations', 'generate']);
    expect(first.code).toBe(0);
    const dir = join(project, 'migrations', 'postgres');
    const invoiceLine = readFileSync(join(dir, '01-tables', 'invoice_line.sql'), 'utf8');
    expect(invoiceLine).toMatch(/DO NOT EDIT/);
    expect(invoiceLine).toMatch(/^-- Source: schemas\/chinook\/dbo\/InvoiceLine\.yaml$/m);
    expect(invoiceLine).toMatch(/^-- Checksum: sha256:[0-9a-f]{64}$/m);
    expect(invoiceLine).toMatch(/CREATE TABLE IF NOT EXISTS "public"."invoice_line" \(\n {2}"invoice_line_id" integer NOT NULL,/);
    expect(invoiceLine).toMatch(/"unit_price" numeric\(10,2\) NOT NULL/);
    expect(readFileSync(join(dir, '01-tables', 'employee.sql'), 'utf8')).toMatch(/"birth_date" timestamp\(3\) without time zone,/);
    expect(readFileSync(join(dir, '01-tables', 'invoice_line-staging.sql'), 'utf8')).toMatch(/CREATE OR REPLACE PROCEDURE/);
    const snapshot = (d: string): Record<string, string> => {
      const out: Record<string, string> = {};
      const walk = (p: string, rel: string) => {
        for (const e of readdirSync(p, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(p, e.name), `${rel}${e.name}/`);
          else out[`${rel}${e.name}`] = readFileSync(join(p, e.name), 'utf8');
        }
      };
      walk(d, '');
      return out;
    };
    const before = snapshot(dir);
    expect(Object.keys(before)).toHaveLength(1 + 1 + 2 * TABLES.length);
    const again = await cdc(['migrations', 'generate']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 written/);
    expect(snapshot(dir)).toEqual(before);
    const valid = await cdc(['migrations', 'validate']);
    expect(valid.stdout).toMatch(/valid/);
    expect(valid.code).toBe(0);
  });

  it('apply creates the tables; every INSERT of Chinook_PostgreSql.sql loads unchanged; counts match the file', async () => {
    await cluster.createDatabase('app_dev');
    const dry = await cdc(['migrations', 'apply', '--env', 'dev', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would apply 00-infrastructure\/001-management\.sql/);
    const r = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/applied 01-tables\/invoice_line\.sql/);

    const withoutComments = (sql: string) => sql.replace(/^(?:\s*(?:--[^\n]*\n|\/\*[\s\S]*?\*\/))*\s*/, '');
    const inserts = splitStatements(readFileSync(chinookScriptPath(), 'utf8'))
      .map((s) => withoutComments(s.sql))
      .filter((sql) => /^INSERT\b/i.test(sql));
    expect(inserts.length).toBeGreaterThanOrEqual(11);
    const client = new pg.Client({ connectionString: cluster.url('app_dev') });
    await client.connect();
    try {
      for (const sql of inserts) await client.query(sql);
    } finally {
      await client.end();
    }
    // The reference: the same file loaded by PostgreSQL itself into its own tables.
    await cluster.createDatabase('reference');
    await loadChinook(cluster, 'reference');
    for (const table of TABLES) {
      const [got] = await query<{ n: string }>('app_dev', `SELECT count(*) AS n FROM public.${table}`);
      const [want] = await query<{ n: string }>('reference', `SELECT count(*) AS n FROM public.${table}`);
      expect(Number(got!.n), table).toBe(Number(want!.n));
      expect(Number(got!.n), table).toBeGreaterThan(0);
    }
    const [sum] = await query<{ total: string }>('app_dev', 'SELECT sum(total)::text AS total FROM public.invoice');
    const [ref] = await query<{ total: string }>('reference', 'SELECT sum(total)::text AS total FROM public.invoice');
    expect(sum!.total).toBe(ref!.total);

    const again = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(again.stdout).toMatch(/every migration is applied/);
    const status = await cdc(['migrations', 'status', '--env', 'dev']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/01-tables\/track\.sql\s+table\s+applied/);
  });
});

function editDefinition(table: string, edit: (text: string) => string): void {
  const path = join(project, 'schemas', 'chinook', 'dbo', `${table}.yaml`);
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
}

async function columnsOf(table: string): Promise<string[]> {
  const rows = await query<{ c: string }>(
    'app_dev',
    `SELECT attname || ' ' || format_type(atttypid, atttypmod) AS c FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_cdc\\_%' ORDER BY attnum`,
    [`public.${table}`],
  );
  return rows.map((r) => r.c);
}

async function primaryKeyOf(table: string): Promise<string> {
  const [row] = await query<{ def: string }>('app_dev', "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'", [`public.${table}`]);
  return row!.def;
}

describe('definition changes → diff → --write → apply on a database that holds data', () => {
  it('a column added to a YAML definition: COLUMN_ADDED (info), exit 1; --write applies cleanly', async () => {
    editDefinition('InvoiceLine', (t) => `${t}  - name: Discount\n    type: numeric(5,2)\n    nullable: true\n`);
    const diff = await cdc(['migrations', 'diff']);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/info\s+COLUMN_ADDED\s+public\.invoice_line\s+discount\s+numeric\(5,2\)/);
    const json = await cdc(['migrations', 'diff', '--json']);
    expect(JSON.parse(json.stdout).changes).toEqual([expect.objectContaining({ kind: 'COLUMN_ADDED', severity: 'info', table: 'public.invoice_line', column: 'discount' })]);
    const live = await cdc(['migrations', 'diff', '--env', 'dev']);
    expect(live.stdout).toMatch(/vs dev database:[\s\S]*COLUMN_ADDED/);

    const write = await cdc(['migrations', 'diff', '--write']);
    expect(write.stdout).toMatch(/wrote 02-changes\/0001-invoice_line\.sql/);
    const rowsBefore = await query<{ n: string }>('app_dev', 'SELECT count(*) AS n FROM public.invoice_line');
    const apply = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/applied 02-changes\/0001-invoice_line\.sql/);
    // The staging file (staging table + merge procedure) is repeatable: changed, so re-applied.
    expect(apply.stdout).toMatch(/re-applied 01-tables\/invoice_line-staging\.sql/);
    expect(apply.stdout).not.toMatch(/applied 01-tables\/invoice_line\.sql/);
    expect(await columnsOf('invoice_line')).toEqual(['invoice_line_id integer', 'invoice_id integer', 'track_id integer', 'unit_price numeric(10,2)', 'quantity integer', 'discount numeric(5,2)']);
    expect(await query('app_dev', 'SELECT count(*) AS n FROM public.invoice_line')).toEqual(rowsBefore);
    const clean = await cdc(['migrations', 'diff']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const cleanLive = await cdc(['migrations', 'diff', '--env', 'dev']);
    expect(cleanLive.code, cleanLive.stdout + cleanLive.stderr).toBe(0);
  });

  it('a widening type change: COLUMN_TYPE_CHANGED (info, not breaking: issue 10); --write converts the data in place', async () => {
    editDefinition('Track', (t) => t.replace(/(name: Composer\n\s+type: )nvarchar\(220\)/, '$1nvarchar(400)').replace(/(name: Bytes\n\s+type: )int/, '$1bigint'));
    const diff = await cdc(['migrations', 'diff']);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/info\s+COLUMN_TYPE_CHANGED\s+public\.track\s+composer\s+character varying\(220\) → character varying\(400\)/);
    expect(diff.stdout).toMatch(/info\s+COLUMN_TYPE_CHANGED\s+public\.track\s+bytes\s+integer → bigint/);
    const [before] = await query<{ s: string }>('app_dev', 'SELECT sum(bytes)::text AS s FROM public.track');
    expect((await cdc(['migrations', 'diff', '--write'])).stdout).toMatch(/wrote 02-changes\/0002-track\.sql/);
    const apply = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(apply.code).toBe(0);
    expect(await columnsOf('track')).toContain('composer character varying(400)');
    expect(await columnsOf('track')).toContain('bytes bigint');
    expect(await query('app_dev', 'SELECT sum(bytes)::text AS s FROM public.track')).toEqual([before]);
  });

  it('a primary-key change: PRIMARY_KEY_CHANGED (breaking); --write swaps the key; the merge procedure follows', async () => {
    editDefinition('InvoiceLine', (t) =>
      t.replace(/(name: InvoiceLineId\n\s+type: int\n\s+nullable: false\n\s+primary_key: )true/, '$12').replace(/(name: InvoiceId\n\s+type: int\n\s+nullable: false)/, '$1\n    primary_key: 1'),
    );
    const diff = await cdc(['migrations', 'diff']);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/breaking\s+PRIMARY_KEY_CHANGED\s+public\.invoice_line\s+\(invoice_line_id\) → \(invoice_id, invoice_line_id\)/);
    expect((await cdc(['migrations', 'diff', '--write'])).stdout).toMatch(/wrote 02-changes\/0003-invoice_line\.sql/);
    const apply = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(await primaryKeyOf('invoice_line')).toBe('PRIMARY KEY (invoice_id, invoice_line_id)');
    // The recreated staging table and merge procedure work on the new shape.
    await query(
      'app_dev',
      `INSERT INTO cdc_staging."public.invoice_line" (invoice_line_id, invoice_id, track_id, unit_price, quantity, discount, _cdc_op, _cdc_position)
       VALUES (1, 1, 2, 9.99, 3, 0.50, 'U', cdc_management.row_position(100, 0))`,
    );
    await query('app_dev', 'CALL cdc_staging."sp_merge_public.invoice_line"()');
    expect(await query('app_dev', 'SELECT quantity, discount::text FROM public.invoice_line WHERE invoice_id = 1 AND invoice_line_id = 1')).toEqual([{ quantity: 3, discount: '0.50' }]);
  });

  it('a removed column is left out of --write unless --allow-destructive', async () => {
    editDefinition('Customer', (t) => t.replace(/ {2}- name: Fax\n(?: {4}.*\n)+/, ''));
    const diff = await cdc(['migrations', 'diff']);
    expect(diff.stdout).toMatch(/breaking\s+COLUMN_REMOVED\s+public\.customer\s+fax/);
    const careful = await cdc(['migrations', 'diff', '--write']);
    expect(careful.stdout).toMatch(/left out \(destructive; pass --allow-destructive\)/);
    const bold = await cdc(['migrations', 'diff', '--write', '--allow-destructive']);
    expect(bold.stdout).toMatch(/wrote 02-changes\/0004-customer\.sql/);
    expect((await cdc(['migrations', 'apply', '--env', 'dev'])).code).toBe(0);
    expect(await columnsOf('customer')).not.toContain('fax character varying(24)');
  });
});

describe('a failing migration', () => {
  it('is rolled back and recorded with its error and statement; apply resumes after the data is fixed', async () => {
    editDefinition('Customer', (t) => t.replace(/(name: Company\n\s+type: )nvarchar\(80\)/, '$1int'));
    expect((await cdc(['migrations', 'diff'])).stdout).toMatch(/breaking\s+COLUMN_TYPE_CHANGED\s+public\.customer\s+company\s+character varying\(80\) → integer/);
    expect((await cdc(['migrations', 'diff', '--write'])).stdout).toMatch(/wrote 02-changes\/0005-customer\.sql/);
    const failed = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/MIGRATION_FAILED.*02-changes\/0005-customer\.sql failed: invalid input syntax for type integer/);
    const [row] = await query<{ success: boolean; error: string; statement: string }>(
      'app_dev',
      "SELECT success, error, statement FROM cdc_management.migration_history WHERE name = '02-changes/0005-customer.sql'",
    );
    expect(row).toEqual({ success: false, error: expect.stringMatching(/invalid input syntax for type integer/), statement: expect.stringMatching(/ALTER COLUMN "company" TYPE integer/) });
    expect(await columnsOf('customer')).toContain('company character varying(80)');
    const status = await cdc(['migrations', 'status', '--env', 'dev']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/02-changes\/0005-customer\.sql\s+table\s+failed/);

    await query('app_dev', "UPDATE public.customer SET company = NULL WHERE company !~ '^[0-9]+$'");
    const retried = await cdc(['migrations', 'apply', '--env', 'dev']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(/applied \(retry\) 02-changes\/0005-customer\.sql/);
    expect(await columnsOf('customer')).toContain('company integer');
  });
});

describe('protection', () => {
  it('a hand-edited generated file is reported by validate and refused by apply', async () => {
    const path = join(project, 'migrations', 'postgres', '01-tables', 'album.sql');
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, original.replace('"title" character varying(160) NOT NULL', '"title" text NOT NULL'));
    try {
      const validate = await cdc(['migrations', 'validate']);
      expect(validate.code).toBe(1);
      expect(validate.stdout).toMatch(/FILE_MODIFIED: 01-tables\/album\.sql was edited by hand/);
      const apply = await cdc(['migrations', 'apply', '--env', 'dev']);
      expect(apply.code).toBe(2);
      expect(apply.stderr).toMatch(/refusing to apply: 01-tables\/album\.sql was edited by hand/);
      const status = await cdc(['migrations', 'status', '--offline']);
      expect(status.stdout).toMatch(/01-tables\/album\.sql\s+table\s+edited/);
    } finally {
      writeFileSync(path, original);
    }
    expect((await cdc(['migrations', 'validate'])).code).toBe(0);
  });

  it('validate catches a reordered manifest, a missing file and an extra file', async () => {
    const copy = join(root, 'tampered');
    cpSync(project, copy, { recursive: true });
    const dir = join(copy, 'migrations', 'postgres');
    const manifest = readFileSync(join(dir, 'manifest.yaml'), 'utf8');
    const entry = / {2}- path: 01-tables\/album\.sql\n(?: {4}.*\n)+/.exec(manifest)![0];
    const next = / {2}- path: 01-tables\/artist\.sql\n(?: {4}.*\n)+/.exec(manifest)![0];
    writeFileSync(join(dir, 'manifest.yaml'), manifest.replace(entry + next, next + entry));
    removeFile(join(dir, '01-tables', 'genre.sql'));
    writeFileSync(join(dir, '01-tables', 'extra.sql'), 'SELECT 1;\n');
    const r = await runCli(['migrations', 'validate', '--config', join(copy, 'cdc.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CHAIN_BROKEN: manifest\.yaml: the chain breaks at 01-tables\/artist\.sql/);
    expect(r.stdout).toMatch(/FILE_MISSING: 01-tables\/genre\.sql/);
    expect(r.stdout).toMatch(/FILE_EXTRA: 01-tables\/extra\.sql/);
  });

  it('two concurrent applies never both run a file', async () => {
    writeFileSync(config, readFileSync(config, 'utf8').replace('environments:\n', 'environments:\n  ci:\n    database: app_ci\n'));
    expect((await cdc(['migrations', 'generate'])).code).toBe(0);
    await cluster.createDatabase('app_ci');
    const first = await cdc(['migrations', 'apply', '--env', 'ci', '--to', '00-infrastructure/001-management.sql']);
    expect(first.stdout.match(/^applied /gm)).toHaveLength(1);
    // Hold the lock so that both runs are certainly waiting at once, then let them race.
    const holder = new pg.Client({ connectionString: cluster.url('app_ci') });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [APPLY_LOCK_KEY]);
    const runs = [0, 1].map(() => startCli(['migrations', 'apply', '--env', 'ci', '--config', config], env));
    for (const run of runs) await until(() => run.stdout().includes('waiting for it'));
    await holder.query('SELECT pg_advisory_unlock($1)', [APPLY_LOCK_KEY]);
    await holder.end();
    const [a, b] = await Promise.all(runs.map(async (run) => ({ code: await run.exited, stdout: run.stdout() })));
    const ran = [...a!.stdout.matchAll(/^applied (\S+)/gm), ...b!.stdout.matchAll(/^applied (\S+)/gm)].map((m) => m[1]);
    const manifest = readFileSync(join(project, 'migrations', 'postgres', 'manifest.yaml'), 'utf8');
    const listed = [...manifest.matchAll(/- path: (\S+)/g)].map((m) => m[1]);
    expect(ran.sort()).toEqual(listed.filter((p) => !p!.startsWith('00-')).sort());
    expect(new Set(ran).size).toBe(ran.length);
    // A fresh database built from the base files plus the ALTERs has the same shape as dev.
    expect(await query('app_ci', "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'public.invoice_line'::regclass AND contype = 'p'")).toEqual([
      { def: 'PRIMARY KEY (invoice_id, invoice_line_id)' },
    ]);
  });
});

describe('SQL Server CDC operations', () => {
  it('enable-cdc --dry-run prints the exact T-SQL for the defined tables', async () => {
    const r = await cdc(['mssql', 'enable-cdc', '--env', 'dev', '--dry-run', '--table', 'dbo.PlaylistTrack']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('IF EXISTS (SELECT 1 FROM sys.databases WHERE name = DB_NAME() AND is_cdc_enabled = 0)\n    EXEC sys.sp_cdc_enable_db;\nGO');
    expect(r.stdout).toContain(
      "    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'PlaylistTrack', @role_name = NULL, @supports_net_changes = 1;",
    );
    expect(r.stdout).not.toContain("N'Album'");
  });

  it('clean-cdc --dry-run --days 7 prints sp_cdc_cleanup_change_table per capture instance', async () => {
    const r = await cdc(['mssql', 'clean-cdc', '--env', 'dev', '--dry-run', '--days', '7', '--table', 'dbo.Album']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("DATEADD(day, -7, GETDATE())");
    expect(r.stdout).toContain("EXEC @rc = sys.sp_cdc_cleanup_change_table @capture_instance = N'dbo_Album', @low_water_mark = @lsn, @threshold = 5000;");
  });

  it('without connection settings, or with an unreachable server, it says what to set', async () => {
    const unset = await cdc(['mssql', 'enable-cdc', '--env', 'dev']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/MSSQL_DEV_HOST/);
    const closed = await cdc(['mssql', 'enable-cdc', '--env', 'dev'], {
      MSSQL_DEV_HOST: '127.0.0.1',
      MSSQL_DEV_PORT: '1',
      MSSQL_DEV_USER: 'sa',
      MSSQL_DEV_PASSWORD: 'x',
      MSSQL_DEV_DATABASE: 'Chinook',
    });
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/CONNECTION_FAILED.*127\.0\.0\.1:1/);
  });
});

describe('bad input', () => {
  it('missing config: names the file and says to run cdc init', async () => {
    const r = await runCli(['migrations', 'generate', '--config', join(root, 'nowhere', 'cdc.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no project config at .*nowhere\/cdc\.yaml/);
    expect(r.stderr).toMatch(/cdc init/);
  });

  it('a YAML error in a table file names file and line', async () => {
    const copy = join(root, 'broken');
    cpSync(project, copy, { recursive: true });
    const file = join(copy, 'schemas', 'chinook', 'dbo', 'Genre.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('nullable: false', 'nullable: nope'));
    const r = await runCli(['migrations', 'generate', '--config', join(copy, 'cdc.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DEFINITION_INVALID.*Genre\.yaml:\d+: columns\[0\]\.nullable/);
  });

  it('unknown environment: lists the known ones', async () => {
    const r = await cdc(['migrations', 'apply', '--env', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown environment "staging".*ci, dev/);
  });

  it('unset connection variables and an unreachable database', async () => {
    const unset = await runCli(['migrations', 'apply', '--env', 'dev', '--config', config], { PG_DEV_HOST: '' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/PG_DEV_HOST.*not set/);
    const closed = await cdc(['migrations', 'apply', '--env', 'dev'], { PG_DEV_PORT: '1' });
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/CONNECTION_FAILED.*cannot connect to the dev database at postgres:\/\/postgres@127\.0\.0\.1:1\/app_dev/);
  });

  it('import of a missing file and of a file without tables', async () => {
    const missing = await cdc(['schema', 'import', '--dialect', 'mssql', '--service', 'chinook', join(root, 'none.sql')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*none\.sql/);
    const empty = join(root, 'empty.sql');
    writeFileSync(empty, 'SELECT 1;\nGO\n');
    const r = await cdc(['schema', 'import', '--dialect', 'mssql', '--service', 'chinook', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/empty\.sql/);
  });
});
