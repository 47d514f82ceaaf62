#!/usr/bin/env node
/**
 * The `cdc` command line. Commands are thin: they parse flags and call the library.
 */
import { Command } from 'commander';
import { EXIT, exitCodeFor, formatError } from './errors.js';
import { runCommand, type RunFlags } from './run-command.js';
import { statusCommand, type StatusFlags } from './status-command.js';
import { registerMigrationsCommands } from './migrations-command.js';
import { registerSchemaCommands } from './schema-command.js';
import { registerMssqlCommands } from './mssql-command.js';
import { registerMergeWorkerCommand } from './merge-worker-command.js';
import { registerMaintenanceCommands } from './maintenance-command.js';
import { registerDebeziumCommands } from './debezium-command.js';

const program = new Command();
program
  .name('cdc')
  .description('cdc-merge: replicate tables into clean target tables through staging and set-based merges; table definitions as code')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('run')
  .description('capture changes from the source and merge them into the target, continuously')
  .option('--config <file>', 'cdc.yaml with source, target, tables, …; flags override it')
  .option('--source <url>', 'source PostgreSQL URL (wal_level = logical)')
  .option('--target <url>', 'target PostgreSQL URL, or a Delta Lake location (an absolute directory)')
  .option('--tables <patterns>', "comma-separated schema.table patterns with * wildcards; quote odd names: '\"Odd Schema\".*'")
  .option('--name <name>', 'pipeline name: names the slot and the publication (default: cdc)')
  .option('--until-caught-up', 'exit 0 once every change committed before the start is merged')
  .option('--metrics-port <port>', 'serve /metrics and /health on this port')
  .option('--metrics-host <host>', 'address the metrics server binds (default 127.0.0.1; 0.0.0.0 or :: for every interface)')
  .option('--resync', 'drop the slot and copy every table again (after the slot was invalidated)')
  .option('--soft-delete', 'keep deleted rows, flagged _cdc_deleted = true')
  .option('--on-rejected-row <policy>', 'a row the target rejects: dead_letter (set it aside in cdc_management.dead_letter, the default) or stop')
  .option('--log-level <level>', 'debug, info, warn or error (default info)')
  .action(async (flags: RunFlags) => {
    process.exitCode = await runCommand(flags);
  });

program
  .command('status')
  .description('slot lag, snapshot progress, per-table rows and last merge')
  .option('--config <file>', 'cdc.yaml: its source, target (with a lake target\'s storage: block) and name; flags override it')
  .option('--source <url>', 'source PostgreSQL URL')
  .option('--target <url>', 'target PostgreSQL URL, or a Delta Lake location (an absolute directory or s3://bucket/prefix)')
  .option('--name <name>', 'pipeline name (default: cdc)')
  .option('--json', 'print JSON')
  .action(async (flags: StatusFlags) => {
    process.exitCode = await statusCommand(flags);
  });

registerMergeWorkerCommand(program);
registerMaintenanceCommands(program);
registerSchemaCommands(program);
registerMigrationsCommands(program);
registerMssqlCommands(program);
registerDebeziumCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error && typeof error === 'object' && 'code' in error && String(error.code).startsWith('commander.')) {
    const code = String(error.code);
    process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? EXIT.ok : EXIT.badInput;
  } else {
    process.stderr.write(`${formatError(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
