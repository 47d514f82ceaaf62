/**
 * `cdc_management.merge_procedure_name` derives exactly the name `mergeProcedureId` gives, on
 * hostile names (issue 11, items 18 and 21): the merge finds a table's procedure through it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayCluster, type ThrowawayCluster } from '../../testing/throwaway-cluster.js';
import { infrastructureSql } from './infrastructure.js';
import { fitIdentifier, mergeProcedureId } from './naming.js';

let cluster: ThrowawayCluster;
let client: pg.Client;

beforeAll(async () => {
  cluster = await startThrowawayCluster({ label: 'naming-sql' });
  client = new pg.Client(await cluster.createDatabase('target'));
  await client.connect();
  await client.query(infrastructureSql());
});
afterAll(async () => {
  await client?.end();
  await cluster?.stop();
});

const u63 = 'ü'.repeat(31) + 'x'; // 63 bytes
const names: [string, string][] = [
  ['public', 'a'],
  ['public', 'Invoice "Line"'],
  ['Odd "Schema".x', 'y'],
  ['s', 'a.b'],
  ['a.b', 'c'],
  ['sch ema', 'tä ble'],
  ['public', u63],
  [u63, u63],
  ['public', 'x'.repeat(38)], // sp_merge_public. + 38 = 54 bytes: fits
  ['public', 'x'.repeat(47)], // 63 bytes exactly
  ['public', 'x'.repeat(48)], // 64 bytes: hashed
  ['public', `${'x'.repeat(44)}€€`], // a 3-byte character straddles the cut
  ['public', `${'x'.repeat(44)}😀😀`], // a 4-byte character (two UTF-16 units) straddles the cut
  ['É', "it's;DROP TABLE x;--"],
];

describe('merge_procedure_name in SQL', () => {
  it.each(names)('%s . %s', async (schema, table) => {
    const { rows } = await client.query<{ name: string }>('SELECT cdc_management.merge_procedure_name($1, $2) AS name', [schema, table]);
    expect(rows[0]!.name).toBe(mergeProcedureId({ schema, name: table }).name);
  });

  it('fit_identifier agrees with fitIdentifier, forced or not', async () => {
    for (const [name, force] of [['a'.repeat(70), false], ['short', true], ['ü'.repeat(40), false]] as const) {
      const { rows } = await client.query<{ name: string }>("SELECT cdc_management.fit_identifier($1, convert_to($2, 'UTF8'), $3) AS name", [name, `d${name}`, force]);
      expect(rows[0]!.name).toBe(fitIdentifier(name, `d${name}`, force));
    }
  });
});
