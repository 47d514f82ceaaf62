/**
 * `cdc debezium config`: prints (or writes) the Kafka Connect configuration of Debezium's
 * PostgreSQL connector for a source, in the form `cdc run` reads, after checking the source
 * (src/sources/debezium/postgres-connector.ts). Problems are listed with what to do; any error
 * among them exits 2 and writes nothing.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CdcError } from '../errors.js';
import { parseTablePatterns } from '../config/table-pattern.js';
import { debeziumConnectorConfig } from '../sources/debezium/postgres-connector.js';
import { EXIT, exitCodeFor, formatError } from './errors.js';

interface DebeziumConfigFlags {
  source?: string;
  tables?: string;
  name?: string;
  topicPrefix?: string;
  slot?: string;
  publication?: string;
  output?: string;
  check: boolean;
}

/** Registers `cdc debezium config`. */
export function registerDebeziumCommands(program: Command): void {
  const debezium = program.command('debezium').description("Debezium's side of a pipeline: the connector configuration for a source");
  debezium
    .command('config')
    .description("the Kafka Connect JSON of Debezium's PostgreSQL connector for the source (pgoutput, transaction metadata, JSON with schemas), checked against the source first")
    .requiredOption('--source <url>', 'source PostgreSQL URL (its password goes into the configuration)')
    .option('--tables <patterns>', 'comma-separated schema.table patterns with * wildcards (default: every user table)')
    .option('--name <name>', 'connector name, topic prefix and slot/publication stem (default: cdc)')
    .option('--topic-prefix <prefix>', 'topic.prefix (default: the name)')
    .option('--slot <name>', 'slot.name (default: debezium_<name>)')
    .option('--publication <name>', 'publication.name (default: debezium_<name>)')
    .option('--output <file>', 'write the JSON to this file (default: standard output)')
    .option('--no-check', 'write the configuration even when the source has problems')
    .action(async (flags: DebeziumConfigFlags) => {
      process.exitCode = await debeziumConfigCommand(flags);
    });
}

async function debeziumConfigCommand(flags: DebeziumConfigFlags): Promise<number> {
  try {
    const { config, findings } = await debeziumConnectorConfig({
      sourceUrl: flags.source!,
      name: flags.name ?? 'cdc',
      patterns: parseTablePatterns(flags.tables ?? ''),
      ...(flags.topicPrefix ? { topicPrefix: flags.topicPrefix } : {}),
      ...(flags.slot ? { slot: flags.slot } : {}),
      ...(flags.publication ? { publication: flags.publication } : {}),
    });
    for (const f of findings) process.stderr.write(`${f.level}: ${f.message}\n  what to do: ${f.remedy}\n`);
    const errors = findings.filter((f) => f.level === 'error').length;
    if (errors > 0 && flags.check) {
      throw new CdcError('SOURCE_NOT_READY', `the source is not ready for the Debezium connector: ${errors} problem${errors === 1 ? '' : 's'} above`, {
        remedy: 'fix them and run this again (or pass --no-check to write the configuration anyway)',
      });
    }
    const json = `${JSON.stringify(config, null, 2)}\n`;
    if (flags.output) {
      writeFileSync(flags.output, json, { mode: 0o600 });
      process.stderr.write(`wrote ${flags.output} (it holds the source's password when the URL has one)\n`);
    } else {
      process.stdout.write(json);
    }
    return EXIT.ok;
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    return exitCodeFor(error);
  }
}
