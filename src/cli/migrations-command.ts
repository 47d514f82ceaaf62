/**
 * `cdc migrations generate | diff | apply | status | validate` (DESIGN.md §5). Thin: flags in,
 * library call, report out. Exit codes: see src/cli/errors.ts; `diff` exits 0 (no changes),
 * 1 (changes) or 2 (error), `validate` 0 (valid) or 1 (problems).
 */
import type { Command } from 'commander';
import { loadProject } from '../project/project.js';
import { writeMigrationPlan } from '../migrations/generate.js';
import { applySinkMigrations, diffSinkMigrations, generateSinkMigrations, sinkMigrationStatus } from '../migrations/sink-commands.js';
import { validateMigrations } from '../migrations/status.js';
import type { SchemaChange } from '../schema/schema-diff.js';
import { EXIT, formatError } from './errors.js';
import { renderTable } from '../observability/text-table.js';

/** Flags every migrations command takes. */
interface ProjectFlags {
  config: string;
  sink?: string;
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function changeRows(changes: readonly SchemaChange[]): string[][] {
  return changes.map((c) => [c.severity, c.kind, c.table, c.column ?? '', c.from && c.to ? `${c.from} → ${c.to}` : (c.to ?? c.from ?? '')]);
}

/** Registers `cdc migrations …` on `program`. */
export function registerMigrationsCommands(program: Command): void {
  const migrations = program.command('migrations').description('generate, diff, apply and track the DDL of the target tables (schema as code)');
  const common = (c: Command) =>
    c.option('--config <file>', 'the project config', 'cdc.yaml').option('--sink <name>', 'the sink (default: the only one in cdc.yaml)');

  common(
    migrations
      .command('generate')
      .description('render migrations/<sink>/ from schemas/ (deterministic; unchanged input writes no byte)')
      .option('--table <pattern>', 'only this table (source or target schema.table)')
      .option('--dry-run', 'list what would be written, write nothing'),
  ).action((flags: ProjectFlags & { table?: string; dryRun?: boolean }) => {
    const project = loadProject(flags.config);
    const plan = generateSinkMigrations(project, { ...(flags.sink ? { sink: flags.sink } : {}), ...(flags.table ? { table: flags.table } : {}) });
    for (const w of plan.warnings) err(`warning: ${w}`);
    const changed = plan.files.filter((f) => f.status !== 'unchanged');
    if (!flags.dryRun) writeMigrationPlan(plan);
    const verb = flags.dryRun ? 'would write' : 'wrote';
    for (const f of changed) out(`${verb} ${plan.dir}/${f.path} (${f.status})`);
    if (plan.manifestStatus !== 'unchanged') out(`${verb} ${plan.dir}/manifest.yaml (${plan.manifestStatus})`);
    out(`${plan.files.length} files for ${plan.targets.length} tables in ${plan.dir}: ${changed.length} ${flags.dryRun ? 'to write' : 'written'}, ${plan.files.length - changed.length} unchanged`);
    process.exitCode = EXIT.ok;
  });

  common(
    migrations
      .command('diff')
      .description('compare schemas/ with the migrations (and with --env, the live database); exit 0 none, 1 changes, 2 error')
      .option('--table <pattern>', 'only this table')
      .option('--env <env>', 'also compare with this environment\'s database (PG_<ENV>_HOST, …; SQL sinks)')
      .option('--write', 'write the next numbered ALTER migration(s) and regenerate')
      .option('--allow-destructive', 'let --write drop columns and tables')
      .option('--json', 'print JSON'),
  ).action(async (flags: ProjectFlags & { table?: string; env?: string; write?: boolean; allowDestructive?: boolean; json?: boolean }) => {
    try {
      const project = loadProject(flags.config);
      const result = await diffSinkMigrations({
        project,
        ...(flags.sink ? { sink: flags.sink } : {}),
        ...(flags.table ? { table: flags.table } : {}),
        ...(flags.env ? { env: flags.env } : {}),
        write: flags.write ?? false,
        allowDestructive: flags.allowDestructive ?? false,
      });
      const any = result.changes.length > 0 || (result.live?.length ?? 0) > 0;
      if (flags.json) {
        out(JSON.stringify(result, null, 2));
      } else {
        for (const w of result.warnings) err(`warning: ${w}`);
        const header = ['severity', 'change', 'table', 'column', 'detail'];
        out(result.changes.length ? `schemas/ vs migrations:\n${renderTable(header, changeRows(result.changes))}` : 'schemas/ vs migrations: no changes');
        if (result.live) out(result.live.length ? `schemas/ vs ${flags.env} database:\n${renderTable(header, changeRows(result.live))}` : `schemas/ vs ${flags.env} database: no changes`);
        for (const f of result.written) out(`wrote ${f}`);
        for (const s of result.skipped) out(`left out (destructive; pass --allow-destructive): ${s.message}`);
      }
      process.exitCode = any ? 1 : EXIT.ok;
    } catch (error) {
      err(formatError(error));
      process.exitCode = EXIT.badInput;
    }
  });

  common(
    migrations
      .command('apply')
      .description('run pending migrations on an environment\'s database (PG_<ENV>_HOST, _PORT, _USER, _PASSWORD), or on a lake sink\'s location (sinks.<name>.target)')
      .option('--env <env>', 'environment (cdc.yaml environments); required for SQL sinks, refused for lake sinks')
      .option('--dry-run', 'list what would run, run nothing')
      .option('--to <file>', 'stop after this file (path as in manifest.yaml)'),
  ).action(async (flags: ProjectFlags & { env?: string; dryRun?: boolean; to?: string }) => {
    const project = loadProject(flags.config);
    const result = await applySinkMigrations({
      project,
      ...(flags.env ? { env: flags.env } : {}),
      ...(flags.sink ? { sink: flags.sink } : {}),
      ...(flags.to ? { to: flags.to } : {}),
      dryRun: flags.dryRun ?? false,
      log: out,
    });
    const ran = result.decisions.filter((d) => d.action !== 'skip').length;
    out(`${result.database}: ${ran} ${flags.dryRun ? 'to run' : 'run'}, ${result.decisions.length - ran} already applied`);
    process.exitCode = EXIT.ok;
  });

  common(
    migrations
      .command('status')
      .description('applied, pending, modified or failed, per file')
      .option('--env <env>', 'environment to read migration_history from (SQL sinks; lake sinks read their location)')
      .option('--offline', 'from the files alone (no database, no location)')
      .option('--json', 'print JSON'),
  ).action(async (flags: ProjectFlags & { env?: string; offline?: boolean; json?: boolean }) => {
    const project = loadProject(flags.config);
    const status = await sinkMigrationStatus({ project, ...(flags.sink ? { sink: flags.sink } : {}), ...(flags.env ? { env: flags.env } : {}), offline: flags.offline ?? false });
    if (flags.json) out(JSON.stringify(status, null, 2));
    else {
      out(renderTable(['file', 'kind', 'state', 'applied at', 'detail'], status.files.map((f) => [f.path, f.kind, f.state, f.appliedAt ?? '', f.detail ?? ''])));
      for (const p of status.problems) err(`problem: ${p.message}`);
    }
    process.exitCode = status.files.some((f) => f.state !== 'applied' && f.state !== 'unknown') || status.problems.length > 0 ? 1 : EXIT.ok;
  });

  common(
    migrations
      .command('validate')
      .description('check checksums, the manifest chain, and missing or extra files; exit 1 on problems')
      .option('--json', 'print JSON'),
  ).action((flags: ProjectFlags & { json?: boolean }) => {
    const project = loadProject(flags.config);
    const result = validateMigrations({ project, ...(flags.sink ? { sink: flags.sink } : {}) });
    if (flags.json) out(JSON.stringify(result, null, 2));
    else if (result.problems.length === 0) out(`${result.files} files of sink ${result.sink}: valid`);
    else for (const p of result.problems) out(`${p.code}: ${p.message}`);
    process.exitCode = result.problems.length === 0 ? EXIT.ok : 1;
  });
}
