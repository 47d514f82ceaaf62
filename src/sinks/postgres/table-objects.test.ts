import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../../schema/table.js';
import { markingTriggerSql } from './deferred-merge.js';
import { mergeProcedureSql } from './merge-procedure.js';
import { finalTableSql, stagingTableSql } from './table-ddl.js';
import { upgradeCallSql } from './row-position-sql.js';
import { tableObjects, tableUnits } from './table-objects.js';

const invoice: TableSchema = {
  id: { schema: 'public', name: 'Invoice' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'total', type: 'numeric(10,2)', nullable: true, toastable: false },
  ],
  primaryKey: ['id'],
};

describe('the DDL assembler for one table', () => {
  it('lists its objects in creation order', () => {
    expect(tableObjects(invoice).map((o) => o.object)).toEqual(['schema', 'final table', 'row position upgrade', 'staging table', 'staging trigger', 'merge procedure']);
  });

  it('groups them into the two history units, byte for byte the bodies of the generated files', () => {
    const [table, staging] = tableUnits(invoice, { softDelete: true });
    expect(table).toMatchObject({ unit: 'table', name: 'table public."Invoice"', kind: 'table', sql: `${finalTableSql(invoice, { softDelete: true })}\n` });
    expect(staging).toMatchObject({
      unit: 'staging',
      name: 'staging public."Invoice"',
      kind: 'repeatable',
      sql: `${upgradeCallSql(invoice.id)}\n${stagingTableSql(invoice)}\n${markingTriggerSql(invoice.id)}\n\n${mergeProcedureSql(invoice, { softDelete: true })}\n`,
    });
  });

  it("builds with the table's own options over the sink's defaults", () => {
    const own = tableUnits({ ...invoice, options: { softDelete: true } }, { softDelete: false });
    expect(own[0].sql).toMatch(/"_cdc_deleted" boolean/);
    expect(own[1].sql).toBe(tableUnits(invoice, { softDelete: true })[1].sql);
    expect(tableUnits({ ...invoice, options: {} }, { softDelete: true })[0].sql).toMatch(/"_cdc_deleted" boolean/);
    expect(tableUnits(invoice, {})[0].sql).not.toMatch(/_cdc_deleted/);
  });
});
