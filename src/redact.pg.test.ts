/**
 * `cdc_management.redact(text)` (what the deferred merge keeps of an error) redacts exactly as
 * `redactText`: the same rules, in the regular-expression syntax both dialects share.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from './testing/throwaway-cluster.js';
import { redactFunctionSql, redactText } from './redact.js';

let cluster: ThrowawayCluster;
let client: pg.Client;
beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'redact' });
  client = new pg.Client(await cluster.createDatabase('target'));
  await client.connect();
  await client.query('CREATE SCHEMA m');
  await client.query(redactFunctionSql('m'));
});
afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

const texts = [
  'cannot connect to the source at postgres://cdc:S3cr3t@127.0.0.1:5432/x',
  'postgres://cdc:p@ss@word@h/db and nats://u:pw@h1:4222,nats://tok@h2:4222',
  'postgres://cdc@h/x?sslmode=disable&password=S3cr3t&x=1 PASSWORD%3Dabc',
  "host=h password='S3 cr3t' dbname=x",
  '{"token": "abc", "user": "x"}',
  'null value in column "note" of relation "public.d" violates not-null constraint',
  'Failing row contains (1, R0w, null,\n2).',
  'Key (id, "a b")=(1, R0w) already exists.',
  'COPY t, line 3, column v: "R0w"',
  'PL/pgSQL function x() line 12 at SQL statement\nCOPY t, line 3: "1\tR0w"',
  'invalid input syntax for type integer: "R0w"',
  'value "R0w" is out of range for type integer',
  'invalid byte sequence for encoding "UTF8": 0x00 0x41\nmore',
  'character with byte sequence 0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"',
  'relation "public.we""ird ü.x" does not exist',
  'Token "R0w" is invalid.',
];

it.each(texts)('SQL and TypeScript redact %j alike', async (text) => {
  const { rows } = await client.query<{ r: string }>('SELECT m.redact($1) AS r', [text]);
  expect(rows[0]!.r).toBe(redactText(text));
});
