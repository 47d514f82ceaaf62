import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';

describe('throwaway cluster', () => {
  let cluster: ThrowawayCluster;
  beforeAll(async () => {
    cluster = await startThrowawayCluster({ label: 'selftest' });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs with wal_level=logical on its own port', async () => {
    const client = new pg.Client(cluster.url());
    await client.connect();
    const { rows } = await client.query<{ wal_level: string }>('SHOW wal_level');
    await client.end();
    expect(rows[0]?.wal_level).toBe('logical');
    expect(cluster.port).not.toBe(5432);
  });
});
