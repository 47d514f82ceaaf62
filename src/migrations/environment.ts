/**
 * Where an environment's target database is: host, port, user and password from
 * `PG_<ENV>_HOST`, `PG_<ENV>_PORT` (default 5432), `PG_<ENV>_USER`, `PG_<ENV>_PASSWORD`
 * (optional: trust, peer or ~/.pgpass), and the database name from the manifest (which takes it
 * from cdc.yaml's `environments.<env>.database`).
 */
import { CdcError } from '../errors.js';
import type { Manifest } from './manifest.js';

/** `PG_<ENV>_` for an environment name: upper case, other characters as `_`. */
export function environmentPrefix(env: string): string {
  return `PG_${env.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

/**
 * The connection URL of `env`'s database.
 * @throws {CdcError} CONFIG_INVALID naming the environment when the manifest has no database
 *   for it, or naming the variables that are not set.
 */
export function environmentUrl(env: string, manifest: Manifest, environ: NodeJS.ProcessEnv = process.env): string {
  const database = manifest.databases[env];
  if (database === undefined) {
    const known = Object.keys(manifest.databases);
    throw new CdcError('CONFIG_INVALID', `unknown environment ${JSON.stringify(env)}: the manifest of sink ${manifest.sink} ${known.length ? `knows ${known.join(', ')}` : 'knows no environments'}`, {
      remedy: 'pass one of those to --env, or add it under environments: in cdc.yaml and run cdc migrations generate',
    });
  }
  const prefix = environmentPrefix(env);
  const host = environ[`${prefix}HOST`];
  const user = environ[`${prefix}USER`];
  const missing = [host ? undefined : `${prefix}HOST`, user ? undefined : `${prefix}USER`].filter(Boolean);
  if (missing.length > 0) {
    throw new CdcError('CONFIG_INVALID', `environment ${env}: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`, {
      remedy: `export ${prefix}HOST, ${prefix}PORT (default 5432), ${prefix}USER and ${prefix}PASSWORD for the ${env} database`,
    });
  }
  const port = environ[`${prefix}PORT`] ?? '5432';
  if (!/^\d{1,5}$/.test(port)) {
    throw new CdcError('CONFIG_INVALID', `${prefix}PORT=${port} is not a port number`, { remedy: 'give a number from 1 to 65535' });
  }
  const password = environ[`${prefix}PASSWORD`];
  const auth = encodeURIComponent(user!) + (password ? `:${encodeURIComponent(password)}` : '');
  const hostPart = host!.startsWith('/') ? `localhost` : host!.includes(':') ? `[${host}]` : host!;
  const socket = host!.startsWith('/') ? `?host=${encodeURIComponent(host!)}` : '';
  return `postgres://${auth}@${hostPart}:${port}/${encodeURIComponent(database)}${socket}`;
}
