/**
 * Bad input through the real `cdc` binary: each case exits non-zero with a message that says
 * what is wrong and what to do.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { runCli } from './support/cli.js';

let cluster: ThrowawayCluster;
let sourceUrl: string;
let targetUrl: string;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'cli-errors' });
  sourceUrl = await cluster.createDatabase('src');
  targetUrl = await cluster.createDatabase('tgt');
  await cluster.psql('src', ['-c', 'CREATE TABLE public.t (id int PRIMARY KEY)']);
});
afterAll(async () => {
  await cluster?.stop();
});

describe('cdc run with bad input', () => {
  it('unreachable server: exit 1, names the server and what to check', async () => {
    const port = await freePort();
    const r = await runCli(['run', '--source', `postgres://postgres@127.0.0.1:${port}/x`, '--target', targetUrl, '--until-caught-up']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CONNECTION_FAILED.*cannot connect to the source at postgres:\/\/postgres@127\.0\.0\.1:\d+\/x/);
    expect(r.stderr).toMatch(/what to do: check that the server is running/);
  });

  it('wal_level not logical: exit 1 with the setting to change', async () => {
    const replica = await startThrowawayCluster({ label: 'replica', settings: { wal_level: 'replica' } });
    try {
      const r = await runCli(['run', '--source', replica.url(), '--target', targetUrl, '--until-caught-up']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/WAL_LEVEL_NOT_LOGICAL/);
      expect(r.stderr).toMatch(/ALTER SYSTEM SET wal_level = logical/);
    } finally {
      await replica.stop();
    }
  });

  it('missing table: exit 2 naming the pattern', async () => {
    const r = await runCli(['run', '--source', sourceUrl, '--target', targetUrl, '--tables', 'public.nope', '--name', 'missing', '--until-caught-up']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/TABLE_NOT_FOUND.*no table public\.nope/);
  });

  it('bad URL and missing target: exit 2', async () => {
    const bad = await runCli(['run', '--source', 'mysql://x/y', '--target', targetUrl]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--source must be a postgres:\/\/ URL/);
    const none = await runCli(['run', '--source', sourceUrl]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no target given.*\n.*--target/);
  });

  it('bad config file: exit 2 naming file, line and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-cli-'));
    const file = join(dir, 'cdc.yaml');
    writeFileSync(file, `source:\n  url: ${sourceUrl}\ntarget:\n  url: ${targetUrl}\nbatch:\n  max_changez: 10\n`);
    const r = await runCli(['run', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:6: batch max_changez`);
  });

  it('bad debezium.kafka section: exit 2 naming file, line and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-cli-'));
    const file = join(dir, 'cdc.yaml');
    writeFileSync(file, `target:\n  url: ${targetUrl}\ndebezium:\n  kafka:\n    brokers: [kafka]\n    topics: [dbz.public.a]\n`);
    const r = await runCli(['run', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:5: debezium.kafka.brokers[0]: expected host:port`);
    writeFileSync(file, `target:\n  url: ${targetUrl}\ndebezium:\n  kafka:\n    brokers: [kafka:9092]\n    topic_pattern: "("\n`);
    const bad = await runCli(['run', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}:6: debezium.kafka.topic_pattern: not a regular expression`);
  });

  it('no permission: exit 1 saying which privilege is missing', async () => {
    await cluster.psql('src', ['-c', 'CREATE ROLE limited LOGIN']);
    const url = sourceUrl.replace('postgres@', 'limited@');
    const r = await runCli(['run', '--source', url, '--target', targetUrl, '--name', 'limited', '--until-caught-up']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PERMISSION_DENIED/);
    expect(r.stderr).toMatch(/what to do: .*owner/);
  });

  it('bad flags: exit 2 with usage', async () => {
    const r = await runCli(['run', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option/);
  });
});
