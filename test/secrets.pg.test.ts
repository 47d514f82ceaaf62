/**
 * No password, token or row value in anything cdc-merge writes (issue 11, item 19): a marker
 * password, token and row value are driven through every failure (a bad password, an unreachable
 * host, a `?password=` query parameter, a NATS URL with user:password and one with a token in the
 * config file, a COPY error on a row value, a deferred merge failing on a row value) with the
 * built `cdc` binary, and looked for in its standard output and error, `/health`, `/metrics`,
 * `cdc status`, and the target's `error_log`, `dead_letter`, `merge_log` and `merge_control`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../src/schema/table.js';
import { infrastructureSql } from '../src/sinks/postgres/infrastructure.js';
import { tableMigrations } from '../src/sinks/postgres/sink.js';
import { freePort, startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli, startCli, type CliRun } from './support/cli.js';
import { createPair, type Pair } from './support/pipeline.js';

/** The markers: none of them may appear in anything cdc-merge writes. */
const PASSWORD = 'Pw-M4rker-7c1e';
const WRONG = 'Wr0ng-M4rker-0b9d';
const TOKEN = 'T0ken-M4rker-5a2f';
const ROW = 'R0w-M4rker-e3d8';
const MARKERS = [PASSWORD, WRONG, TOKEN, ROW];

/** Fails naming the marker and where it appeared. */
function expectClean(where: string, text: string): void {
  for (const marker of MARKERS) expect(text.includes(marker), `${where} holds ${marker}:\n${text}`).toBe(false);
}

/** Everything a finished or running `cdc` child wrote. */
function output(run: CliRun): string {
  return `${run.stdout()}\n${run.stderr()}`;
}

/** The target's tables that record errors, as text. */
async function recorded(client: pg.Client): Promise<string> {
  const tables = ['error_log', 'dead_letter', 'merge_log', 'merge_control', 'processing_log', 'migration_history'];
  const parts: string[] = [];
  for (const t of tables) {
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS e', [`cdc_management.${t}`]);
    if (exists.rows[0].e) parts.push(JSON.stringify((await client.query(`SELECT * FROM cdc_management.${t}`)).rows));
  }
  return parts.join('\n');
}

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GETs `path` on the metrics server; '' when it does not answer (the process exited). */
async function get(port: number, path: string): Promise<string> {
  try {
    return await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  } catch {
    return '';
  }
}

let cluster: ThrowawayCluster;
let pair: Pair;
let dir: string;
const running: CliRun[] = [];

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'secrets' });
  pair = await createPair(cluster);
  dir = mkdtempSync(join(tmpdir(), 'cdc-secrets-'));
  // A role that must give its password (scram), on a cluster that trusts everyone else.
  await pair.source.query(`CREATE ROLE cdc_secret LOGIN REPLICATION SUPERUSER PASSWORD '${PASSWORD}'`);
  const hba = join(cluster.dir, 'data', 'pg_hba.conf');
  writeFileSync(hba, `host all cdc_secret 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
  await pair.source.query('SELECT pg_reload_conf()');
  await pair.source.query('CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t VALUES (1, $$one$$)');
}, 180_000);
afterAll(async () => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await pair?.close();
  await cluster?.stop();
});

describe('connection failures', () => {
  it('a bad password, on the source and on the target, of cdc run and cdc status', async () => {
    const port = cluster.port;
    const bad = `postgres://cdc_secret:${WRONG}@127.0.0.1:${port}/src_${pair.name}`;
    const source = await runCli(['run', '--source', bad, '--target', pair.targetUrl, '--name', 'badpw', '--until-caught-up']);
    expect(source.code).toBe(1);
    expect(source.stderr).toMatch(/CONNECTION_FAILED|AUTHENTICATION_FAILED|password authentication failed/);
    expectClean('cdc run stderr (bad source password)', source.stdout + source.stderr);
    const target = await runCli(['run', '--source', pair.sourceUrl, '--target', bad.replace(`src_${pair.name}`, `tgt_${pair.name}`), '--name', 'badpw', '--until-caught-up']);
    expect(target.code).toBe(1);
    expectClean('cdc run stderr (bad target password)', target.stdout + target.stderr);
    const status = await runCli(['status', '--source', bad, '--target', pair.targetUrl, '--name', 'badpw', '--json']);
    expect(status.code).toBe(1);
    expectClean('cdc status output (bad password)', status.stdout + status.stderr);
  });

  it('an unreachable host with user:password, and with ?password= in the query', async () => {
    const port = await freePort();
    for (const url of [`postgres://cdc_secret:${PASSWORD}@127.0.0.1:${port}/x`, `postgres://cdc_secret@127.0.0.1:${port}/x?sslmode=disable&password=${PASSWORD}`]) {
      const r = await runCli(['run', '--source', url, '--target', pair.targetUrl, '--name', 'unreach', '--until-caught-up']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/CONNECTION_FAILED.*cannot connect to the source at postgres:\/\/cdc_secret(:\*\*\*)?@127\.0\.0\.1/);
      expectClean(`cdc run stderr (${url.replace(PASSWORD, 'MARKER')})`, r.stdout + r.stderr);
      // The merge worker is a service: it retries an unreachable target (and says why) until stopped.
      const w = startCli(['merge-worker', '--target', url]);
      await w.waitFor('retryable failure');
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      expectClean('cdc merge-worker output', w.stdout() + w.stderr());
    }
    // The target's tables are what the failures above could have written into.
    expectClean('target tables', await recorded(pair.target));
  });

  it('NATS with user:password, and a NATS token in the config file: logs and /health', async () => {
    const natsPort = await freePort();
    for (const natsUrl of [`nats://cdc:${PASSWORD}@127.0.0.1:${natsPort}`, `nats://${TOKEN}@127.0.0.1:${natsPort}`]) {
      const file = join(dir, 'nats.yaml');
      writeFileSync(
        file,
        [
          'name: natssecret',
          'source:',
          '  type: debezium',
          '  nats: { url: "${NATS_URL}", stream: cdc }',
          `target: { type: postgresql, url: "${pair.targetUrl}" }`,
          '',
        ].join('\n'),
      );
      const metricsPort = await freePort();
      const run = startCli(['run', '--config', file, '--metrics-port', String(metricsPort)], { NATS_URL: natsUrl });
      running.push(run);
      await run.waitFor(/retryable failure|CONNECTION_FAILED/, 60_000);
      let health = '';
      await until('/health reports the error', async () => (health = await get(metricsPort, '/health')).includes('error'), 30_000);
      expect(health).toMatch(/cannot connect to NATS at nats:\/\/(cdc:)?\*\*\*@127\.0\.0\.1/);
      expectClean('/health body (NATS)', health);
      expectClean('/metrics (NATS)', await get(metricsPort, '/metrics'));
      run.child.kill('SIGTERM');
      await run.exited;
      expectClean('cdc run output (NATS)', output(run));
    }
    expectClean('target tables', await recorded(pair.target));
  });
});

describe('row values', () => {
  it('a COPY that fails on a row value: logs, /health, /metrics, error_log, dead_letter and cdc status hold no value', async () => {
    const metricsPort = await freePort();
    const run = startCli(['run', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name, '--tables', 'public.t', '--metrics-port', String(metricsPort)]);
    running.push(run);
    await run.waitFor('"msg":"streaming"');
    // The staging column no longer takes text: COPY fails on the value, and PostgreSQL's
    // message (invalid input syntax … "value"), context (COPY …, line 1, column v: "value")
    // and the row itself all hold it.
    await pair.target.query(`ALTER TABLE cdc_staging."public.t" ALTER COLUMN v TYPE int USING NULL`);
    await pair.source.query(`INSERT INTO public.t VALUES (2, '${ROW}')`);
    await run.waitFor(/"level":50|retryable failure|error \[/, 60_000);
    let health = '';
    await until('/health reports the error, or the run ends', async () => (health = await get(metricsPort, '/health')).includes('error') || run.child.exitCode !== null, 30_000);
    expectClean('/health body (COPY)', health);
    expectClean('/metrics (COPY)', await get(metricsPort, '/metrics'));
    run.child.kill('SIGTERM');
    await run.exited;
    expect(run.stderr()).toMatch(/invalid input syntax for type integer/);
    expectClean('cdc run output (COPY)', output(run));
    const errors = await pair.target.query('SELECT message, detail::text FROM cdc_management.error_log');
    expect(errors.rows.length).toBeGreaterThan(0);
    expectClean('target tables (COPY)', await recorded(pair.target));
    const status = await runCli(['status', '--source', pair.sourceUrl, '--target', pair.targetUrl, '--name', pair.name, '--json']);
    expectClean('cdc status (COPY)', status.stdout + status.stderr);
    await pair.target.query(`ALTER TABLE cdc_staging."public.t" ALTER COLUMN v TYPE text`);
  });

  it('a deferred merge that fails on a row value: merge_control, merge_log, error_log, the worker and cdc status --target hold no value', async () => {
    const url = await cluster.createDatabase('deferred');
    const db = new pg.Client(url);
    await db.connect();
    try {
      const table: TableSchema = {
        id: { schema: 'public', name: 'd' },
        columns: [
          { name: 'id', type: 'integer', nullable: false, toastable: false },
          { name: 'v', type: 'text', nullable: true, toastable: true },
          { name: 'note', type: 'text', nullable: false, toastable: true },
        ],
        primaryKey: ['id'],
      };
      await db.query(infrastructureSql());
      for (const m of tableMigrations(table, {})) await db.query(m.sql);
      // note is NOT NULL on the final table: the merge fails with "Failing row contains (1, value, null, …)".
      await db.query(`INSERT INTO cdc_staging."public.d" (id, v, note, _cdc_op, _cdc_position) VALUES (1, '${ROW}', NULL, 'I', cdc_management.row_position(1, 0))`);
      const metricsPort = await freePort();
      const worker = startCli(['merge-worker', '--target', url, '--window', '1s', '--metrics-port', String(metricsPort)]);
      running.push(worker);
      await worker.waitFor('merge worker listening');
      await until('the merge failed', async () => (await db.query('SELECT 1 FROM cdc_management.error_log')).rows.length > 0);
      expectClean('/metrics (merge worker)', await get(metricsPort, '/metrics'));
      expectClean('/health (merge worker)', await get(metricsPort, '/health'));
      worker.child.kill('SIGTERM');
      await worker.exited;
      expectClean('cdc merge-worker output', output(worker));
      const [control] = (await db.query('SELECT last_error FROM cdc_management.merge_control')).rows;
      expect(control.last_error).toMatch(/null value in column "note"/);
      expectClean('target tables (deferred)', await recorded(db));
      for (const args of [['status', '--target', url], ['status', '--target', url, '--json']]) {
        const status = await runCli(args);
        expect(status.code, status.stderr).toBe(0);
        expect(status.stdout).toMatch(/null value in column/);
        expectClean('cdc status --target', status.stdout + status.stderr);
      }
    } finally {
      await db.end();
    }
  });
});
