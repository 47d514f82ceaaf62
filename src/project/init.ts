/**
 * `cdc init`: a new project directory with a commented cdc.yaml, `schemas/` and `migrations/`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CdcError } from '../errors.js';
import { MIGRATIONS_DIR, SCHEMAS_DIR } from './project.js';

/** The commented cdc.yaml `cdc init` writes. */
export function configTemplate(service: string | undefined, dialect: string): string {
  const services = service
    ? `services:\n  ${service}:\n    dialect: ${dialect}          # mssql | postgresql: the dialect of the types in schemas/${service}/\n`
    : `services:\n  # <name>:\n  #   dialect: mssql            # mssql | postgresql\n`;
  return `# cdc-merge project. Table definitions live in schemas/<service>/<schema>/<table>.yaml
# (cdc schema import | inspect write them); cdc migrations generate renders migrations/<sink>/.

# Source systems whose tables are defined under schemas/<service>/.
${services}
# Targets that migrations are generated for (migrations/<sink>/).
sinks:
  postgres:
    type: postgresql
    naming: snake_case          # preserve | lower | snake_case (InvoiceLine -> invoice_line)
    schemas:                    # source schema -> target schema; others keep their name
      dbo: public
    soft_delete: false          # keep deleted rows, flagged _cdc_deleted
    staging: logged             # logged keeps rows external writers staged through a crash; unlogged is faster
    # tables: [dbo.*]           # only these source tables (default: all)
    # columns:                  # extra columns on every target table
    #   - { name: region, type: text }
    # tenancy:                  # db-per-tenant: a tenant column leads every table and key
    #   mode: db-per-tenant     # db-per-tenant | db-shared
    #   column: _customer_id
    #   type: uuid
  # lake:                       # Delta Lake tables from the same definitions (cdc migrations apply, no --env)
  #   type: delta
  #   naming: snake_case
  #   target:                   # cdc.yaml's Delta target: settings without type
  #     location: /data/lake    # or s3://bucket/prefix with a storage: block
  #     tables:
  #       public.orders: { partition_by: [region] }

# One target database per environment. cdc migrations apply --env dev connects with
# PG_DEV_HOST, PG_DEV_PORT (default 5432), PG_DEV_USER and PG_DEV_PASSWORD.
environments:
  dev:
    database: app_dev
  # prod:
  #   database: app

# cdc run settings (see the README): source/target URLs may use \${VAR}.
# source: { url: "postgres://user:\${SOURCE_PASSWORD}@host:5432/app" }
# target: { url: "postgres://user:\${TARGET_PASSWORD}@host:5432/app_copy" }
`;
}

/**
 * Creates `dir` (if needed), `cdc.yaml`, `schemas/` and `migrations/`.
 * @throws {CdcError} CONFIG_INVALID when cdc.yaml exists and `force` is not set.
 * @returns the paths created.
 */
export function initProject(dir: string, options: { service?: string; dialect: string; force: boolean }): string[] {
  const config = join(dir, 'cdc.yaml');
  if (existsSync(config) && !options.force) {
    throw new CdcError('CONFIG_INVALID', `${config} already exists`, { remedy: 'use another directory, or pass --force to overwrite it' });
  }
  const created: string[] = [];
  mkdirSync(dir, { recursive: true });
  writeFileSync(config, configTemplate(options.service, options.dialect));
  created.push(config);
  for (const sub of [SCHEMAS_DIR, MIGRATIONS_DIR]) {
    const path = join(dir, sub);
    if (!existsSync(path)) {
      mkdirSync(path, { recursive: true });
      writeFileSync(join(path, '.gitkeep'), '');
      created.push(`${path}/`);
    }
  }
  return created;
}
