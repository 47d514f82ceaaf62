/**
 * The native peer: PostgreSQL's own publication and subscription on the pgbench workload.
 *
 * Initial sync: CREATE SUBSCRIPTION on a subscriber holding the empty pgbench tables, until every
 * table is ready (pg_subscription_rel.srsubstate = 'r') and the subscription's slot has confirmed
 * the source position taken just before. Catch-up: the subscription is disabled while pgbench
 * runs; after ENABLE, until the slot's confirmed_flush_lsn reaches the source's
 * pg_current_wal_lsn() taken when pgbench finished.
 */
import pg from 'pg';
import { parseTablePatterns } from '../config/table-pattern.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../testing/throwaway-cluster.js';
import { compareDatabases } from '../verify/compare-databases.js';
import { CLUSTER_OPTIONS, note, secondsSince, waitFor, type BenchConfig, type PeerResult } from './common.js';
import { CHANGES_PER_TRANSACTION, PGBENCH_TABLES, pgbenchInit, pgbenchRun } from './pgbench.js';

const DATABASE = 'bench';
const SUBSCRIPTION = 'bench_sub';
const WAIT_MS = 60 * 60 * 1000;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'cdc-merge bench' });
  await client.connect();
  return client;
}

/** True once the subscription's slot on the source has confirmed `lsn`. */
async function slotConfirmed(source: pg.Client, lsn: string): Promise<boolean> {
  const { rows } = await source.query<{ ok: boolean | null }>('SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1', [
    SUBSCRIPTION,
    lsn,
  ]);
  return rows[0]?.ok === true;
}

async function historyRows(client: pg.Client): Promise<number> {
  return Number((await client.query<{ n: string }>('SELECT count(*)::text AS n FROM pgbench_history')).rows[0]!.n);
}

async function currentLsn(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
}

/** Runs the native peer on two fresh clusters and removes them afterwards. */
export async function benchNative(config: BenchConfig): Promise<PeerResult> {
  const clusters: ThrowawayCluster[] = [];
  try {
    note('native: starting source and subscriber clusters');
    const sourceCluster = await startThrowawayCluster({ ...CLUSTER_OPTIONS, label: 'bench-native-source' });
    clusters.push(sourceCluster);
    const subscriberCluster = await startThrowawayCluster({ ...CLUSTER_OPTIONS, label: 'bench-native-subscriber' });
    clusters.push(subscriberCluster);
    const sourceUrl = await sourceCluster.createDatabase(DATABASE);
    const subscriberUrl = await subscriberCluster.createDatabase(DATABASE);

    note(`native: pgbench -i -s ${config.scale} on the source; empty tables with primary keys on the subscriber`);
    await pgbenchInit(config.bindir, { cluster: sourceCluster, database: DATABASE }, config.scale);
    await pgbenchInit(config.bindir, { cluster: subscriberCluster, database: DATABASE }, config.scale, 'dtp');

    const source = await connect(sourceUrl);
    const subscriber = await connect(subscriberUrl);
    try {
      await source.query('CREATE PUBLICATION bench_pub FOR ALL TABLES');
      const initialRows = Number(
        (await source.query<{ n: string }>('SELECT ((SELECT count(*) FROM pgbench_accounts) + (SELECT count(*) FROM pgbench_branches) + (SELECT count(*) FROM pgbench_tellers) + (SELECT count(*) FROM pgbench_history))::text AS n')).rows[0]!.n,
      );

      note('native: CREATE SUBSCRIPTION (initial sync)');
      const before = await currentLsn(source);
      let started = performance.now();
      await subscriber.query(`CREATE SUBSCRIPTION ${SUBSCRIPTION} CONNECTION 'host=127.0.0.1 port=${sourceCluster.port} dbname=${DATABASE} user=postgres' PUBLICATION bench_pub`);
      let initialCopySeconds: number | undefined;
      await waitFor(
        'the subscription to sync every table',
        async () => {
          if (initialCopySeconds === undefined) {
            const { rows } = await subscriber.query<{ total: number; ready: number }>(
              "SELECT count(*)::int AS total, count(*) FILTER (WHERE srsubstate = 'r')::int AS ready FROM pg_subscription_rel",
            );
            if (rows[0]!.total > 0 && rows[0]!.total === rows[0]!.ready) initialCopySeconds = secondsSince(started);
          }
          return initialCopySeconds !== undefined && (await slotConfirmed(source, before));
        },
        WAIT_MS,
      );
      const initialSyncSeconds = secondsSince(started);
      note(`native: initial sync took ${initialSyncSeconds.toFixed(2)} s (every table ready after ${initialCopySeconds!.toFixed(2)} s)`);

      await subscriber.query(`ALTER SUBSCRIPTION ${SUBSCRIPTION} DISABLE`);
      await waitFor(
        'the subscription to stop',
        async () => !(await source.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [SUBSCRIPTION])).rows[0]?.active,
        60_000,
      );
      note(`native: subscription disabled; pgbench -t ${config.transactions} total, -c ${config.clients} -j ${config.jobs} on the source`);
      const bench = await pgbenchRun(config.bindir, { cluster: sourceCluster, database: DATABASE }, config);
      note(`native: pgbench made ${bench.transactions} transactions in ${bench.seconds.toFixed(1)} s (${bench.tps.toFixed(0)} tps)`);

      const after = await currentLsn(source);
      const history = await historyRows(source);
      note(`native: ALTER SUBSCRIPTION … ENABLE (catch-up to ${after})`);
      started = performance.now();
      await subscriber.query(`ALTER SUBSCRIPTION ${SUBSCRIPTION} ENABLE`);
      let appliedSeconds: number | undefined;
      let lastCount = 0;
      await waitFor(
        'the subscription to catch up',
        async () => {
          // Every pgbench transaction inserts one history row and the subscriber applies
          // transactions in commit order, so equal counts mean every transaction is visible.
          if (appliedSeconds === undefined && performance.now() - lastCount >= 100) {
            lastCount = performance.now();
            if ((await historyRows(subscriber)) >= history) appliedSeconds = secondsSince(started);
          }
          return appliedSeconds !== undefined && (await slotConfirmed(source, after));
        },
        WAIT_MS,
      );
      const catchUpSeconds = secondsSince(started);
      note(`native: catch-up took ${catchUpSeconds.toFixed(2)} s (all transactions visible on the subscriber after ${appliedSeconds!.toFixed(2)} s)`);

      note('native: comparing source and subscriber');
      const comparison = await compareDatabases(sourceUrl, subscriberUrl, { patterns: parseTablePatterns(PGBENCH_TABLES.map((t) => `public.${t}`).join(',')) });
      return {
        peer: 'native',
        initialSyncSeconds,
        initialCopySeconds: initialCopySeconds!,
        initialRows,
        catchUpSeconds,
        catchUpVisibleSeconds: appliedSeconds!,
        pgbench: bench,
        changes: bench.transactions * CHANGES_PER_TRANSACTION,
        comparison,
      };
    } finally {
      await subscriber.query(`ALTER SUBSCRIPTION ${SUBSCRIPTION} DISABLE`).catch(() => undefined);
      await source.end();
      await subscriber.end();
    }
  } finally {
    for (const c of clusters.reverse()) await c.stop();
  }
}
