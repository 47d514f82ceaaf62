/**
 * `cdc schema import | inspect` and `cdc init`: create table definition files
 * (`schemas/<service>/<schema>/<table>.yaml`) from SQL Server DDL or a PostgreSQL catalog.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { CdcError } from '../errors.js';
import { parseTablePatterns } from '../config/table-pattern.js';
import { loadProject } from '../project/project.js';
import { declareService, writeDefinitions } from '../project/write-definitions.js';
import { initProject } from '../project/init.js';
import { importMssqlDdl } from '../schema/mssql-import.js';
import type { TableDefinition } from '../schema/definition.js';
import { connectPostgres } from '../sql/connect.js';
import { describeTables, listTables } from '../sources/postgres/catalog.js';
import { EXIT } from './errors.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function checkService(service: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(service)) {
    throw new CdcError('CONFIG_INVALID', `--service ${JSON.stringify(service)} is not a valid service name`, { remedy: 'use letters, digits, _, . or -' });
  }
}

function report(written: ReturnType<typeof writeDefinitions>): void {
  for (const w of written) if (w.status !== 'unchanged') out(`${w.status === 'new' ? 'wrote' : 'updated'} ${w.path}`);
  const changed = written.filter((w) => w.status !== 'unchanged').length;
  out(`${written.length} table definitions: ${changed} written, ${written.length - changed} unchanged`);
}

/** Registers `cdc init` and `cdc schema …` on `program`. */
export function registerSchemaCommands(program: Command): void {
  program
    .command('init')
    .description('create a project directory: a commented cdc.yaml, schemas/ and migrations/')
    .argument('[dir]', 'project directory', '.')
    .option('--service <name>', 'declare a source service')
    .option('--dialect <dialect>', 'its dialect: mssql or postgresql', 'postgresql')
    .option('--force', 'overwrite an existing cdc.yaml')
    .action((dir: string, flags: { service?: string; dialect: string; force?: boolean }) => {
      if (flags.dialect !== 'mssql' && flags.dialect !== 'postgresql') {
        throw new CdcError('CONFIG_INVALID', `--dialect ${flags.dialect} is not supported`, { remedy: 'use mssql or postgresql' });
      }
      if (flags.service) checkService(flags.service);
      const created = initProject(dir, { ...(flags.service ? { service: flags.service } : {}), dialect: flags.dialect, force: flags.force ?? false });
      for (const p of created) out(`created ${p}`);
      out(`next: cdc schema import|inspect …, then cdc migrations generate (in ${dir})`);
      process.exitCode = EXIT.ok;
    });

  const schema = program.command('schema').description('create table definitions (schemas/<service>/<schema>/<table>.yaml)');
  schema
    .command('import')
    .description('read SQL Server DDL (CREATE TABLE …) into table definitions')
    .argument('<file>', 'a .sql script')
    .requiredOption('--dialect <dialect>', 'dialect of the script: mssql')
    .requiredOption('--service <name>', 'service (source system) the tables belong to')
    .option('--config <file>', 'the project config', 'cdc.yaml')
    .action((file: string, flags: { dialect: string; service: string; config: string }) => {
      if (flags.dialect !== 'mssql') {
        throw new CdcError('CONFIG_INVALID', `--dialect ${flags.dialect}: import reads SQL Server DDL only`, { remedy: 'pass --dialect mssql; for PostgreSQL use cdc schema inspect --source URL' });
      }
      checkService(flags.service);
      loadProject(flags.config);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (cause) {
        throw new CdcError('CONFIG_INVALID', `cannot read ${file}: ${(cause as Error).message}`, { cause, remedy: 'check the path of the .sql script' });
      }
      const imported = importMssqlDdl(text, file);
      for (const w of imported.warnings) err(`warning: ${w}`);
      if (declareService(flags.config, flags.service, 'mssql')) out(`declared service ${flags.service} (mssql) in ${flags.config}`);
      const definitions: TableDefinition[] = imported.tables.map((t) => ({
        service: flags.service,
        dialect: 'mssql',
        schema: t.schema,
        table: t.name,
        columns: t.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, ...(c.default === undefined ? {} : { default: c.default }), ...(c.identity ? { identity: true } : {}) })),
        primaryKey: t.primaryKey,
        options: {},
        file: '',
      }));
      report(writeDefinitions(dirname(flags.config), definitions, `Imported by cdc schema import from ${basename(file)}; edit freely, then cdc migrations diff`));
      process.exitCode = EXIT.ok;
    });

  schema
    .command('inspect')
    .description('read table definitions from a PostgreSQL source catalog')
    .requiredOption('--source <url>', 'source PostgreSQL URL')
    .requiredOption('--service <name>', 'service (source system) the tables belong to')
    .option('--tables <patterns>', 'comma-separated schema.table patterns (default: all)')
    .option('--config <file>', 'the project config', 'cdc.yaml')
    .action(async (flags: { source: string; service: string; tables?: string; config: string }) => {
      checkService(flags.service);
      loadProject(flags.config);
      let patterns;
      try {
        patterns = parseTablePatterns(flags.tables ?? '');
      } catch (error) {
        throw new CdcError('TABLE_PATTERN_INVALID', (error as Error).message, { cause: error, remedy: 'fix --tables' });
      }
      const client = await connectPostgres(flags.source, { role: 'source', applicationName: 'cdc-merge schema inspect' });
      let tables;
      try {
        tables = await describeTables(client, await listTables(client, patterns));
      } finally {
        await client.end().catch(() => undefined);
      }
      if (tables.length === 0) {
        throw new CdcError('NO_TABLES', `no tables found on the source${flags.tables ? ` matching ${flags.tables}` : ''}`, { remedy: 'check --tables and the source database' });
      }
      if (declareService(flags.config, flags.service, 'postgresql')) out(`declared service ${flags.service} (postgresql) in ${flags.config}`);
      const definitions: TableDefinition[] = tables.map((t) => ({
        service: flags.service,
        dialect: 'postgresql',
        schema: t.id.schema,
        table: t.id.name,
        columns: t.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })),
        primaryKey: t.primaryKey,
        options: {},
        file: '',
      }));
      report(writeDefinitions(dirname(flags.config), definitions, 'Read by cdc schema inspect from the source catalog; edit freely, then cdc migrations diff'));
      process.exitCode = EXIT.ok;
    });
}
