/**
 * The merge worker (DESIGN.md §4, deferred mode): a service that LISTENs for the staging
 * trigger's notifications and calls `cdc_management.trigger_pending_merges` once a table's
 * batching window has passed, on `concurrency` connections at once. A poll every `pollMs`
 * covers missed notifications (a lost listener connection, a worker started late) and releases
 * abandoned claims. Several workers may run against one database: claims use
 * `FOR UPDATE SKIP LOCKED` and a committed `is_merging` flag, so a table is merged by one worker
 * at a time.
 */
import type pg from 'pg';
import { CdcError } from '../../errors.js';
import { connectPostgres } from '../../sql/connect.js';
import type { MergeWorkerSettings } from '../sink-dialect.js';
import { MERGE_CHANNEL } from './deferred-merge.js';

/** Options of {@link runMergeWorker}. */
export type MergeWorkerOptions = MergeWorkerSettings;

/** What a worker did, returned when it stops. */
export interface MergeWorkerResult {
  readonly merges: number;
  readonly failures: number;
  readonly rows: number;
}

/** Extra delay after the window before looking (ms): the claim compares with the server clock. */
const WINDOW_SLACK_MS = 50;

interface MergeLogRow {
  id: string;
  schema_name: string;
  table_name: string;
  rows: string | null;
  success: boolean;
  error: string | null;
  merged_by: string | null;
  duration_s: number;
  delay_s: number | null;
}

/**
 * Runs a merge worker until `signal` aborts.
 * @throws {CdcError} the connection errors of `connectPostgres` at start; NOT_INITIALIZED when
 *   the target has no `cdc_management.trigger_pending_merges` (apply the migrations first).
 */
export async function runMergeWorker(options: MergeWorkerOptions): Promise<MergeWorkerResult> {
  const { log, metrics, signal } = options;
  const seconds = (ms: number) => ms / 1000;
  let listener = await connectPostgres(options.url, { role: 'target', applicationName: 'cdc-merge merge-worker listener' });
  const workers: (pg.Client | undefined)[] = [];
  const ours = new Set<number>();
  const open = async (i: number): Promise<pg.Client> => {
    const client = await connectPostgres(options.url, { role: 'target', applicationName: `cdc-merge merge-worker ${i + 1}` });
    client.on('error', (error) => {
      metrics?.errorsTotal.inc({ code: 'CONNECTION_LOST' });
      log.warn({ error: error.message }, 'merge connection lost; reconnecting at the next pass');
      if (workers[i] === client) workers[i] = undefined;
    });
    ours.add((client as unknown as { processID: number }).processID);
    workers[i] = client;
    return client;
  };
  const result = { merges: 0, failures: 0, rows: 0 };
  let lastLogId = 0n;
  const timers = new Set<NodeJS.Timeout>();
  let nextWakeAt = 0;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  try {
    const { rows } = await listener.query<{ ok: boolean }>("SELECT to_regprocedure('cdc_management.trigger_pending_merges(double precision, double precision, double precision)') IS NOT NULL AS ok");
    if (!rows[0]!.ok) {
      throw new CdcError('NOT_INITIALIZED', 'the target has no cdc_management.trigger_pending_merges', {
        remedy: 'apply the migrations to the target first (cdc migrations apply), or run cdc run once',
      });
    }
    const { rows: last } = await listener.query<{ id: string | null }>('SELECT max(id)::text AS id FROM cdc_management.merge_log');
    lastLogId = BigInt(last[0]!.id ?? 0);
    for (let i = 0; i < options.concurrency; i++) await open(i);

    const record = async () => {
      const { rows: logs } = await listener.query<MergeLogRow>(
        `SELECT id::text, schema_name, table_name, rows::text, success, error, merged_by,
                extract(epoch FROM finished_at - started_at)::float8 AS duration_s,
                extract(epoch FROM claimed_at - last_change_time)::float8 AS delay_s
           FROM cdc_management.merge_log WHERE id > $1 ORDER BY id`,
        [lastLogId.toString()],
      );
      for (const r of logs) {
        lastLogId = BigInt(r.id);
        const pid = Number(/ pid (\d+)$/.exec(r.merged_by ?? '')?.[1]);
        if (!ours.has(pid)) continue;
        const table = `${r.schema_name}.${r.table_name}`;
        const rowsMerged = Number(r.rows ?? 0);
        metrics?.mergesTotal.inc({ table, result: r.success ? 'ok' : 'error' });
        metrics?.mergeSeconds.observe(r.duration_s);
        if (r.delay_s !== null) metrics?.delaySeconds.observe(r.delay_s);
        if (r.success) {
          result.merges++;
          result.rows += rowsMerged;
          metrics?.rowsTotal.inc({ table }, rowsMerged);
          log.info({ table, rows: rowsMerged, ms: Math.round(r.duration_s * 1000) }, 'merged');
        } else {
          result.failures++;
          metrics?.errorsTotal.inc({ code: 'MERGE_FAILED' });
          log.warn({ table, error: r.error }, 'merge failed; staged rows kept (see cdc_management.error_log)');
        }
      }
    };

    const pass = async () => {
      const call = `CALL cdc_management.trigger_pending_merges($1, $2, $3)`;
      const params = [seconds(options.windowMs), seconds(options.stuckAfterMs), options.maxWaitMs === undefined ? null : seconds(options.maxWaitMs)];
      const outcomes = await Promise.allSettled(
        workers.map(async (w, i) => {
          const client = w ?? (await open(i));
          try {
            await client.query(call, params);
          } catch (error) {
            // A connection that failed mid-call is replaced; its claim is released by the timeout.
            if (workers[i] === client) workers[i] = undefined;
            await client.end().catch(() => undefined);
            throw error;
          }
        }),
      );
      for (const o of outcomes) {
        if (o.status === 'rejected') {
          metrics?.errorsTotal.inc({ code: 'MERGE_CALL_FAILED' });
          log.error({ error: (o.reason as Error).message }, 'trigger_pending_merges failed');
        }
      }
      await record();
    };

    const wake = (cause: 'notify' | 'poll') => {
      if (stopped) return;
      metrics?.wakeupsTotal.inc({ cause });
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        try {
          do {
            again = false;
            await pass();
          } while (again && !stopped);
        } catch (error) {
          log.error({ error: (error as Error).message }, 'merge pass failed');
        } finally {
          running = undefined;
        }
      })();
    };

    const schedule = (delayMs: number) => {
      const at = Date.now() + delayMs;
      // One timer per ~window covers a burst of notifications: a later wake looks at every table.
      if (nextWakeAt >= at - 100 && nextWakeAt <= at + 100) return;
      nextWakeAt = Math.max(nextWakeAt, at);
      const timer = setTimeout(() => {
        timers.delete(timer);
        wake('notify');
      }, delayMs);
      timers.add(timer);
    };

    let listening = false;
    const listen = async (client: pg.Client) => {
      client.on('notification', () => schedule(options.windowMs + WINDOW_SLACK_MS));
      client.on('error', (error) => {
        listening = false;
        metrics?.errorsTotal.inc({ code: 'LISTENER_LOST' });
        log.warn({ error: error.message }, 'listener connection lost: polling until it is back');
      });
      await client.query(`LISTEN ${MERGE_CHANNEL}`);
      listening = true;
    };
    await listen(listener);
    const relisten = async () => {
      if (listening || stopped) return;
      try {
        const client = await connectPostgres(options.url, { role: 'target', applicationName: 'cdc-merge merge-worker listener' });
        await listener.end().catch(() => undefined);
        listener = client;
        await listen(client);
        log.info('listening again');
      } catch (error) {
        log.warn({ error: (error as Error).message }, 'cannot listen yet');
      }
    };
    const poll = setInterval(() => {
      // Fire and forget from the timer: relisten catches and logs its own errors, and a later
      // tick tries again.
      void relisten();
      wake('poll');
    }, options.pollMs ?? Math.max(1000, options.windowMs));
    log.info({ windowMs: options.windowMs, concurrency: options.concurrency, stuckAfterMs: options.stuckAfterMs }, 'merge worker listening');
    options.onReady?.();
    wake('poll');
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    stopped = true;
    clearInterval(poll);
    for (const t of timers) clearTimeout(t);
    await running;
    log.info(result, 'merge worker stopped');
    return result;
  } finally {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    const open = [listener, ...workers].filter((c): c is pg.Client => c !== undefined);
    await Promise.all(open.map((c) => c.end().catch(() => undefined)));
  }
}
