/**
 * `cdc debezium config`: the Kafka Connect configuration of Debezium's PostgreSQL connector for
 * a source database, in the form cdc-merge reads (pgoutput, the JSON converter with schemas,
 * transaction metadata on, the envelope kept), after checking that the database can serve it:
 * `wal_level = logical`, a role with REPLICATION (or superuser) and SELECT on the tables, a
 * publication it may create (or one that exists), a slot that is free, and a replica identity
 * that lets updates and deletes of every table be streamed.
 * Connector settings: https://debezium.io/documentation/reference/stable/connectors/postgresql.html
 * (Connector properties, Transaction metadata, Setting up PostgreSQL).
 */
import type pg from 'pg';
import { CdcError, redactUrl } from '../../errors.js';
import type { TablePattern } from '../../config/table-pattern.js';
import { formatTableId } from '../../schema/table.js';
import { connectPostgres } from '../../sql/connect.js';
import { listTables, type SourceTable } from '../postgres/catalog.js';

/** What to generate. */
export interface ConnectorConfigOptions {
  /** The source PostgreSQL URL (its password, if any, goes into the config). */
  readonly sourceUrl: string;
  /** Connector name; also the default topic prefix, slot and publication stem. */
  readonly name: string;
  /** Tables to stream (`schema.table` patterns); all user tables when empty. */
  readonly patterns: readonly TablePattern[];
  /** `topic.prefix` (default: the name). */
  readonly topicPrefix?: string;
  /** `slot.name` (default `debezium_<name>`). */
  readonly slot?: string;
  /** `publication.name` (default `debezium_<name>`). */
  readonly publication?: string;
}

/** A connector as `POST /connectors` takes it: a name and string settings. */
export interface ConnectorConfig {
  readonly name: string;
  readonly config: Readonly<Record<string, string>>;
}

/** One problem the source has for the connector. */
export interface SourceFinding {
  /** `error`: the connector would fail or lose changes; `warning`: works, worth a look. */
  readonly level: 'error' | 'warning';
  readonly message: string;
  /** What to do, one sentence (SQL where it helps). */
  readonly remedy: string;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const qualified = (t: SourceTable) => `${quoteIdent(t.id.schema)}.${quoteIdent(t.id.name)}`;

/** The Debezium name of a table in `table.include.list`: a regular expression, dots escaped. */
function includeEntry(t: SourceTable): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `${escape(t.id.schema)}\\.${escape(t.id.name)}`;
}

/**
 * The connector's settings for `tables` of the database at `url` (pure).
 * @param tables the tables to stream, sorted
 */
export function connectorConfig(url: URL, tables: readonly SourceTable[], options: ConnectorConfigOptions): ConnectorConfig {
  const stem = options.name.replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();
  const config: Record<string, string> = {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'plugin.name': 'pgoutput',
    'database.hostname': url.hostname,
    'database.port': url.port || '5432',
    'database.user': decodeURIComponent(url.username) || 'postgres',
    ...(url.password ? { 'database.password': decodeURIComponent(url.password) } : {}),
    'database.dbname': decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    'topic.prefix': options.topicPrefix ?? options.name,
    'table.include.list': tables.map(includeEntry).join(','),
    'slot.name': options.slot ?? `debezium_${stem}`,
    'publication.name': options.publication ?? `debezium_${stem}`,
    'publication.autocreate.mode': 'filtered',
    // cdc-merge merges whole source transactions: BEGIN and END on <prefix>.transaction.
    'provide.transaction.metadata': 'true',
    // The envelope with its embedded schema: cdc-merge types the target's columns from it.
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': 'true',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'true',
  };
  return { name: options.name, config };
}

/**
 * Checks the source for the connector (see the module comment).
 * @returns the findings, errors first (empty: ready)
 */
export async function checkSource(client: pg.ClientBase, tables: readonly SourceTable[], options: { slot: string; publication: string }): Promise<SourceFinding[]> {
  const findings: SourceFinding[] = [];
  const setting = (await client.query<{ wal_level: string; user: string; superuser: boolean; replication: boolean; database: string }>(
    `SELECT current_setting('wal_level') AS wal_level, current_user AS user, r.rolsuper AS superuser, r.rolreplication AS replication, current_database() AS database
       FROM pg_roles r WHERE r.rolname = current_user`,
  )).rows[0]!;
  if (setting.wal_level !== 'logical') {
    findings.push({ level: 'error', message: `wal_level is ${setting.wal_level}, not logical`, remedy: "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL" });
  }
  if (!setting.superuser && !setting.replication) {
    findings.push({ level: 'error', message: `role ${setting.user} may not stream changes (no REPLICATION attribute)`, remedy: `ALTER ROLE ${quoteIdent(setting.user)} REPLICATION` });
  }
  for (const t of tables) {
    if (!t.hasPrimaryKey && t.replicaIdentity !== 'f' && t.replicaIdentity !== 'i') {
      findings.push({
        level: 'error',
        message: `table ${formatTableId(t.id)} has no primary key and replica identity ${t.replicaIdentity === 'n' ? 'NOTHING' : 'DEFAULT'}: PostgreSQL refuses its updates and deletes once it is in a publication`,
        remedy: `ALTER TABLE ${qualified(t)} REPLICA IDENTITY FULL`,
      });
    } else if (t.hasPrimaryKey && t.replicaIdentity === 'n') {
      findings.push({ level: 'error', message: `table ${formatTableId(t.id)} has replica identity NOTHING`, remedy: `ALTER TABLE ${qualified(t)} REPLICA IDENTITY DEFAULT` });
    }
  }
  const privileges = await client.query<{ oid: number; can_select: boolean; owns: boolean }>(
    `SELECT c.oid::int AS oid, has_table_privilege(c.oid, 'SELECT') AS can_select, pg_has_role(c.relowner, 'USAGE') AS owns
       FROM pg_class c WHERE c.oid = ANY ($1::oid[])`,
    [tables.map((t) => t.oid)],
  );
  const byOid = new Map(privileges.rows.map((r) => [r.oid, r]));
  for (const t of tables) {
    if (!byOid.get(t.oid)?.can_select) {
      findings.push({ level: 'error', message: `role ${setting.user} may not read ${formatTableId(t.id)} (the initial snapshot selects it)`, remedy: `GRANT SELECT ON ${qualified(t)} TO ${quoteIdent(setting.user)}` });
    }
  }
  const publication = await client.query<{ schemaname: string; tablename: string }>('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [options.publication]);
  const exists = (await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [options.publication])).rowCount === 1;
  if (!exists) {
    const notOwned = tables.filter((t) => !byOid.get(t.oid)?.owns);
    if (!setting.superuser && notOwned.length > 0) {
      findings.push({
        level: 'error',
        message: `publication ${options.publication} does not exist, and role ${setting.user} may not create it for ${notOwned.map((t) => formatTableId(t.id)).join(', ')} (CREATE PUBLICATION … FOR TABLE needs their owner)`,
        remedy: `as their owner: CREATE PUBLICATION ${quoteIdent(options.publication)} FOR TABLE ${tables.map(qualified).join(', ')}`,
      });
    }
  } else {
    const covered = new Set(publication.rows.map((r) => `${r.schemaname}.${r.tablename}`));
    const missing = tables.filter((t) => !covered.has(`${t.id.schema}.${t.id.name}`));
    if (missing.length > 0) {
      findings.push({
        level: 'warning',
        message: `publication ${options.publication} exists without ${missing.map((t) => formatTableId(t.id)).join(', ')}: their changes are not streamed until it has them`,
        remedy: `ALTER PUBLICATION ${quoteIdent(options.publication)} ADD TABLE ${missing.map(qualified).join(', ')}`,
      });
    }
  }
  const slot = (await client.query<{ plugin: string; active: boolean; database: string }>('SELECT plugin, active, database FROM pg_replication_slots WHERE slot_name = $1', [options.slot])).rows[0];
  if (slot && (slot.plugin !== 'pgoutput' || slot.database !== setting.database)) {
    findings.push({ level: 'error', message: `replication slot ${options.slot} exists for ${slot.plugin} in database ${slot.database}`, remedy: `name another slot (--slot), or drop it: SELECT pg_drop_replication_slot('${options.slot}')` });
  } else if (slot?.active) {
    findings.push({ level: 'error', message: `replication slot ${options.slot} is in use by another connection`, remedy: 'stop the other consumer, or name another slot (--slot)' });
  } else if (slot) {
    findings.push({ level: 'warning', message: `replication slot ${options.slot} exists: the connector resumes from it`, remedy: 'nothing, if that is the connector it belonged to; else name another slot (--slot)' });
  }
  return findings.sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
}

/**
 * Lists the selected tables, checks the source, and builds the connector's settings.
 * @returns the config and the findings (errors included: the caller decides)
 * @throws {CdcError} NO_TABLES when no table matches; from connectPostgres: CONFIG_INVALID for a
 *   URL that is not PostgreSQL's, CONNECTION_FAILED, AUTHENTICATION_FAILED, DATABASE_NOT_FOUND.
 */
export async function debeziumConnectorConfig(options: ConnectorConfigOptions): Promise<{ config: ConnectorConfig; findings: SourceFinding[] }> {
  const client = await connectPostgres(options.sourceUrl, { role: 'source', applicationName: 'cdc-merge debezium config' });
  try {
    const tables = await listTables(client, options.patterns);
    if (tables.length === 0) {
      throw new CdcError('NO_TABLES', `no table of ${redactUrl(options.sourceUrl)} matches ${options.patterns.map((p) => p.text).join(', ') || '(all tables)'}`, { remedy: 'widen --tables' });
    }
    const config = connectorConfig(new URL(options.sourceUrl), tables, options);
    const findings = await checkSource(client, tables, { slot: config.config['slot.name']!, publication: config.config['publication.name']! });
    return { config, findings };
  } finally {
    await client.end();
  }
}
