/**
 * `cdc mssql enable-cdc | clean-cdc` (issue #3): SQL Server CDC operations on the tables a
 * project defines for its mssql services. The connection comes from `MSSQL_URL` or
 * `MSSQL_<ENV>_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_DATABASE`. `--dry-run` prints the exact
 * T-SQL; without connection settings it prints the offline plan (every step re-checks on the
 * server, so that script is safe to run by hand).
 */
import type { Command } from 'commander';
import { CdcError } from '../errors.js';
import { parseTablePatterns, matchesPattern } from '../config/table-pattern.js';
import { loadProject } from '../project/project.js';
import type { TableId } from '../schema/table.js';
import { DEFAULT_CLEAN_DAYS, OFFLINE_STATE, checkCleanDays, planCleanCdc, planEnableCdc, renderTsqlScript, type MssqlTableRef } from '../sources/mssql/cdc-admin.js';
import { cleanCdc, connectMssql, enableCdc } from '../sources/mssql/client.js';
import { mssqlConnectionFromEnv, type MssqlConnectionOptions } from '../sources/mssql/connection-settings.js';
import { EXIT } from './errors.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

interface MssqlFlags {
  env: string;
  table?: string;
  dryRun?: boolean;
  config: string;
}

/**
 * The project's SQL Server tables matching `--table` (all when absent).
 * @throws {CdcError} NO_TABLES when none matches.
 */
function projectTables(flags: MssqlFlags): MssqlTableRef[] {
  const project = loadProject(flags.config);
  const patterns = flags.table ? parseTablePatterns(flags.table) : [];
  const tables = project.definitions
    .filter((d) => d.dialect === 'mssql')
    .filter((d) => patterns.length === 0 || patterns.some((p) => matchesPattern(p, { schema: d.schema, name: d.table })))
    .map((d) => ({ schema: d.schema, name: d.table, hasPrimaryKey: d.primaryKey.length > 0 }));
  if (tables.length === 0) {
    throw new CdcError('NO_TABLES', `no SQL Server table definitions${flags.table ? ` match --table ${flags.table}` : ''} in ${flags.config}'s project`, {
      remedy: 'import them first (cdc schema import --dialect mssql …) or fix --table',
    });
  }
  return tables;
}

/** Connection settings, or undefined for a dry run without them. */
function settings(flags: MssqlFlags): MssqlConnectionOptions | undefined {
  try {
    return mssqlConnectionFromEnv(flags.env);
  } catch (error) {
    if (flags.dryRun) return undefined;
    throw error;
  }
}

/** Registers `cdc mssql …` on `program`. */
export function registerMssqlCommands(program: Command): void {
  const mssql = program.command('mssql').description('SQL Server CDC operations for the tables of the project (MSSQL_<ENV>_HOST, …)');
  const common = (c: Command) =>
    c
      .requiredOption('--env <env>', 'environment: MSSQL_<ENV>_HOST, _PORT, _USER, _PASSWORD, _DATABASE (or MSSQL_URL)')
      .option('--table <pattern>', 'only these tables (schema.table, * wildcards)')
      .option('--dry-run', 'print the T-SQL, run nothing')
      .option('--config <file>', 'the project config', 'cdc.yaml');

  common(mssql.command('enable-cdc').description('sys.sp_cdc_enable_db, then sys.sp_cdc_enable_table for each table not yet tracked')).action(
    async (flags: MssqlFlags) => {
      const tables = projectTables(flags);
      const connection = settings(flags);
      if (!connection) {
        out(`-- offline plan: no connection settings for ${flags.env}; assumes CDC is not enabled yet`);
        out(renderTsqlScript(planEnableCdc(tables, OFFLINE_STATE)));
        process.exitCode = EXIT.ok;
        return;
      }
      const session = await connectMssql(connection);
      try {
        const plan = await enableCdc(session, tables, { dryRun: flags.dryRun ?? false, log: out });
        out(`${plan.steps.length} step(s) ${flags.dryRun ? 'planned' : 'run'}, ${plan.skipped.length} table(s) already tracked`);
      } finally {
        await session.close();
      }
      process.exitCode = EXIT.ok;
    },
  );

  common(
    mssql
      .command('clean-cdc')
      .description('sys.sp_cdc_cleanup_change_table: drop change rows older than --days from each capture instance')
      .option('--days <n>', `keep this many days of changes (default ${DEFAULT_CLEAN_DAYS})`),
  ).action(async (flags: MssqlFlags & { days?: string }) => {
    const days = flags.days === undefined ? DEFAULT_CLEAN_DAYS : Number(flags.days);
    checkCleanDays(days);
    const tables: TableId[] = projectTables(flags).map((t) => ({ schema: t.schema, name: t.name }));
    const connection = settings(flags);
    if (!connection) {
      out(`-- offline plan: no connection settings for ${flags.env}; assumes each table has the default capture instance <schema>_<table>`);
      const assumed = { databaseEnabled: true, tracked: tables.map((t) => ({ ...t, captureInstance: `${t.schema}_${t.name}` })) };
      out(renderTsqlScript(planCleanCdc(tables, assumed, days)));
      process.exitCode = EXIT.ok;
      return;
    }
    const session = await connectMssql(connection);
    try {
      const plan = await cleanCdc(session, flags.table ? tables : 'all', { days, dryRun: flags.dryRun ?? false, log: out });
      out(`${plan.steps.length} capture instance(s) ${flags.dryRun ? 'planned' : 'cleaned'}`);
    } finally {
      await session.close();
    }
    process.exitCode = EXIT.ok;
  });
}
