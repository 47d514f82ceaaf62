/**
 * The least each role needs (issue 11, item 20; docs/security.md "Least privilege"), with the
 * built `cdc` on real PostgreSQL, no role a superuser:
 * - source: REPLICATION and ownership of the tables (cdc-merge makes the publication), or
 *   REPLICATION and SELECT on a publication an administrator made;
 * - target: CREATE on the database and on the schemas of the target tables;
 * - deferred-mode writer: USAGE on `cdc_staging` and `cdc_management`, INSERT on its staging table;
 * - merge worker: the grants of docs/security.md, and nothing on final or staging tables;
 * - the metrics server binds where configured (`--metrics-host`, `metrics_host`) and serves no secret.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli, startCli, type CliRun } from './support/cli.js';

const MARKER = 'Pw-M4rker-least-9f3a';

let cluster: ThrowawayCluster;
let admin: pg.Client;
const running: CliRun[] = [];

/** The URL of `database` as `role` (the throwaway cluster trusts local logins: the password is only carried). */
function urlAs(database: string, role: string, password?: string): string {
  const url = new URL(cluster.url(database));
  url.username = role;
  if (password) url.password = password;
  return url.toString();
}

async function connectAs(database: string, role: string): Promise<pg.Client> {
  const client = new pg.Client(urlAs(database, role));
  await client.connect();
  return client;
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `SELECT id, v FROM public.t ORDER BY id` on `database`, as the superuser. */
async function rows(database: string): Promise<unknown[]> {
  const client = new pg.Client(cluster.url(database));
  await client.connect();
  try {
    return (await client.query('SELECT id, v FROM public.t ORDER BY id')).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'least-privilege' });
  for (const db of ['src', 'tgt_owner', 'tgt_pub']) await cluster.createDatabase(db);
  admin = new pg.Client(cluster.url('src'));
  await admin.connect();
  await admin.query(`
    CREATE ROLE cdc_source_owner LOGIN REPLICATION;
    CREATE ROLE cdc_source_reader LOGIN REPLICATION;
    CREATE ROLE cdc_target LOGIN;
    CREATE ROLE loader LOGIN;
    CREATE ROLE merger LOGIN;
    GRANT CREATE ON DATABASE src TO cdc_source_owner;
    CREATE TABLE public.t (id int PRIMARY KEY, v text);
    CREATE TABLE public.keyless (v text);
    INSERT INTO public.t SELECT g, 'v' || g FROM generate_series(1, 100) g;
    INSERT INTO public.keyless VALUES ('a'), ('b');
    ALTER TABLE public.t OWNER TO cdc_source_owner;
    ALTER TABLE public.keyless OWNER TO cdc_source_owner;
    -- The administrator's publication for the reader (publish_via_partition_root as cdc-merge needs it).
    ALTER TABLE public.keyless REPLICA IDENTITY FULL;
    CREATE PUBLICATION dba_pub FOR TABLE public.t, public.keyless WITH (publish_via_partition_root = true);
    GRANT SELECT ON public.t, public.keyless TO cdc_source_reader;`);
  for (const db of ['tgt_owner', 'tgt_pub']) {
    await cluster.psql(db, ['-c', `GRANT CREATE ON DATABASE ${db} TO cdc_target; GRANT CREATE ON SCHEMA public TO cdc_target;`]);
  }
}, 180_000);
afterAll(async () => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await admin?.end();
  await cluster?.stop();
});

describe('cdc run with least-privileged roles', () => {
  it('source: REPLICATION + table ownership (cdc-merge creates the publication); target: CREATE on the database and schema', async () => {
    const args = ['run', '--source', urlAs('src', 'cdc_source_owner'), '--target', urlAs('tgt_owner', 'cdc_target'), '--name', 'owner_pipe', '--until-caught-up'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    await admin.query(`UPDATE public.t SET v = 'changed' WHERE id <= 10; DELETE FROM public.t WHERE id > 90; INSERT INTO public.keyless VALUES ('c')`);
    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(await rows('tgt_owner')).toEqual(await rows('src'));
  });

  it('source: REPLICATION + SELECT on the tables of a publication an administrator made', async () => {
    const args = ['run', '--source', urlAs('src', 'cdc_source_reader'), '--target', urlAs('tgt_pub', 'cdc_target'), '--name', 'dba_pub', '--until-caught-up'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    await admin.query(`UPDATE public.t SET v = 'again' WHERE id <= 5`);
    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(await rows('tgt_pub')).toEqual(await rows('src'));
    // Without ownership, and with no publication made for it, the reader is told what to do.
    const denied = await runCli(['run', '--source', urlAs('src', 'cdc_source_reader'), '--target', urlAs('tgt_pub', 'cdc_target'), '--name', 'no_pub', '--until-caught-up']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/PERMISSION_DENIED[\s\S]*what to do: .*(owner|publication)/);
  });
});

describe('deferred mode with least-privileged roles', () => {
  it('a writer with INSERT on its staging table stages; cdc merge-worker as a role with the documented grants merges, and may not read the tables', async () => {
    // The target as cdc run left it (cdc_target owns cdc_management and the tables).
    const owner = await connectAs('tgt_owner', 'cdc_target');
    try {
      await owner.query(`
        GRANT USAGE ON SCHEMA cdc_staging, cdc_management TO loader;
        GRANT INSERT ON cdc_staging."public.t" TO loader;
        GRANT USAGE ON SCHEMA cdc_management TO merger;
        GRANT SELECT, UPDATE ON cdc_management.merge_control TO merger;
        GRANT SELECT, INSERT ON cdc_management.merge_log TO merger;
        GRANT INSERT ON cdc_management.error_log TO merger;
        GRANT USAGE ON SEQUENCE cdc_management.merge_log_id_seq, cdc_management.error_log_id_seq TO merger;
        GRANT EXECUTE ON PROCEDURE cdc_management.merge_table(text, text) TO merger;`);
    } finally {
      await owner.end();
    }
    const loader = await connectAs('tgt_owner', 'loader');
    const merger = await connectAs('tgt_owner', 'merger');
    try {
      await loader.query(
        `INSERT INTO cdc_staging."public.t" (id, v, _cdc_op, _cdc_position) VALUES (1001, 'staged', 'I', cdc_management.row_position(9000000000, 0))`,
      );
      await expect(loader.query('SELECT * FROM public.t')).rejects.toThrow(/permission denied/);
      await expect(merger.query('SELECT * FROM public.t')).rejects.toThrow(/permission denied/);
      await expect(merger.query('SELECT * FROM cdc_staging."public.t"')).rejects.toThrow(/permission denied/);

      const metricsPort = await freePort();
      const worker = startCli(['merge-worker', '--target', urlAs('tgt_owner', 'merger', MARKER), '--window', '1s', '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.2']);
      running.push(worker);
      await worker.waitFor('merge worker listening');
      await until('the staged row is merged', async () => (await rows('tgt_owner')).some((r) => (r as { id: number }).id === 1001));
      // Served where configured, not on 127.0.0.1; no secret in what it serves.
      const health = await (await fetch(`http://127.0.0.2:${metricsPort}/health`)).text();
      const metrics = await (await fetch(`http://127.0.0.2:${metricsPort}/metrics`)).text();
      await expect(fetch(`http://127.0.0.1:${metricsPort}/health`)).rejects.toThrow();
      expect(health + metrics).not.toContain(MARKER);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.stderr()).not.toContain(MARKER);
    } finally {
      await loader.end();
      await merger.end();
    }
  });
});

describe('the metrics server', () => {
  it('cdc run binds metrics_host from the config file, and --metrics-host over it; serves no secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-least-'));
    const file = join(dir, 'cdc.yaml');
    const port = await freePort();
    writeFileSync(
      file,
      [
        'name: owner_pipe',
        `source: { type: postgres, url: "${urlAs('src', 'cdc_source_owner', MARKER)}" }`,
        `target: { type: postgresql, url: "${urlAs('tgt_owner', 'cdc_target', MARKER)}" }`,
        'tables: [public.t, public.keyless]',
        `metrics_port: ${port}`,
        'metrics_host: 127.0.0.3',
        '',
      ].join('\n'),
    );
    const run = startCli(['run', '--config', file]);
    running.push(run);
    await run.waitFor('"msg":"streaming"');
    let health = await fetch(`http://127.0.0.3:${port}/health`);
    await until('ready', async () => (health = await fetch(`http://127.0.0.3:${port}/health`)).status === 200);
    const body = (await health.text()) + (await (await fetch(`http://127.0.0.3:${port}/metrics`)).text());
    expect(body).not.toContain(MARKER);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toMatch(/"address":"127\.0\.0\.3"[^\n]*metrics and health endpoints listening/);
    expect(run.stderr()).not.toContain(MARKER);

    const flagged = startCli(['run', '--config', file, '--metrics-host', '127.0.0.4']);
    running.push(flagged);
    await flagged.waitFor('"msg":"streaming"');
    expect((await fetch(`http://127.0.0.4:${port}/health/live`)).status).toBe(200);
    flagged.child.kill('SIGTERM');
    expect(await flagged.exited).toBe(0);

    const bad = await runCli(['run', '--config', file, '--metrics-host', '192.0.2.1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/CONFIG_INVALID.*cannot serve metrics on 192\.0\.2\.1[\s\S]*what to do: give --metrics-host an address of this machine/);
  });
});
