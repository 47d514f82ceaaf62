import { describe, expect, it } from 'vitest';
import { sinkSchema } from '../config/project-config.js';
import type { TableDefinition } from './definition.js';
import { mapSourceTable, targetTable, targetTables } from './target-table.js';

const invoiceLine: TableDefinition = {
  service: 'chinook',
  dialect: 'mssql',
  schema: 'dbo',
  table: 'InvoiceLine',
  columns: [
    { name: 'InvoiceLineId', type: 'int', nullable: false },
    { name: 'UnitPrice', type: 'money', nullable: false },
    { name: 'Added', type: 'datetime2(7)', nullable: true },
    { name: 'Shape', type: 'weird_udt', nullable: true },
  ],
  primaryKey: ['InvoiceLineId'],
  options: {},
  file: 'schemas/chinook/dbo/InvoiceLine.yaml',
};

describe('target tables: source columns → templates → (sink adds metadata)', () => {
  it('applies naming, the schema map and the type map; unknown types become text with a warning', () => {
    const t = targetTable(invoiceLine, sinkSchema.parse({ naming: 'snake_case', schemas: { dbo: 'public' } }));
    expect(t.table).toEqual({
      id: { schema: 'public', name: 'invoice_line' },
      columns: [
        { name: 'invoice_line_id', type: 'integer', logicalType: { kind: 'int32' }, nullable: false, toastable: false },
        { name: 'unit_price', type: 'numeric(19,4)', logicalType: { kind: 'decimal', precision: 19, scale: 4 }, nullable: false, toastable: true },
        { name: 'added', type: 'timestamp(6) without time zone', logicalType: { kind: 'timestamp' }, nullable: true, toastable: false },
        { name: 'shape', type: 'text', logicalType: { kind: 'text' }, nullable: true, toastable: true },
      ],
      primaryKey: ['invoice_line_id'],
      options: { softDelete: false, staging: 'logged' },
    });
    expect(t.warnings).toEqual([expect.stringMatching(/"Shape".*"dbo\.InvoiceLine"|dbo\.InvoiceLine.*Shape/)]);
    expect(t.sourceColumns.get('unit_price')).toBe('UnitPrice');
  });

  it('preserve keeps names; lower lower-cases; unmapped schemas follow the naming rule', () => {
    expect(targetTable(invoiceLine, sinkSchema.parse({})).table.id).toEqual({ schema: 'dbo', name: 'InvoiceLine' });
    expect(targetTable(invoiceLine, sinkSchema.parse({ naming: 'lower' })).table.columns[0]!.name).toBe('invoicelineid');
  });

  it('db-per-tenant: the tenant column leads the columns and the key; templates are appended', () => {
    const sink = sinkSchema.parse({
      naming: 'snake_case',
      tenancy: { mode: 'db-per-tenant', column: '_customer_id', type: 'uuid' },
      columns: [{ name: 'region', type: 'text' }],
    });
    const t = targetTable(invoiceLine, sink).table;
    expect(t.columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`)).toEqual([
      '_customer_id uuid NOT NULL',
      'invoice_line_id integer NOT NULL',
      'unit_price numeric(19,4) NOT NULL',
      'added timestamp(6) without time zone',
      'shape text',
      'region text',
    ]);
    expect(t.primaryKey).toEqual(['_customer_id', 'invoice_line_id']);
  });

  it('db-shared: warns for a table without the tenant column', () => {
    const sink = sinkSchema.parse({ naming: 'snake_case', tenancy: { mode: 'db-shared', column: 'customer_id' } });
    expect(targetTable(invoiceLine, sink).warnings).toContainEqual(expect.stringMatching(/dbo\.InvoiceLine has no tenant column "customer_id"/));
  });

  it('refuses two columns that map to one name, and two tables that map to one table', () => {
    const clash = { ...invoiceLine, columns: [...invoiceLine.columns, { name: 'unit_price', type: 'int', nullable: true }] };
    expect(() => targetTable(clash, sinkSchema.parse({ naming: 'snake_case' }))).toThrow(/"UnitPrice" and "unit_price" of dbo\.InvoiceLine both become "unit_price"/);
    const twin = { ...invoiceLine, table: 'invoice_line', file: 'schemas/chinook/dbo/invoice_line.yaml' };
    expect(() => targetTables([invoiceLine, twin], sinkSchema.parse({ naming: 'snake_case' }))).toThrow(/both map to the target table public\.invoice_line|both map to the target table dbo\.invoice_line/);
  });

  it('maps a running source table by the same rules', () => {
    const mapped = mapSourceTable(
      { id: { schema: 'Sales', name: 'OrderLine' }, columns: [{ name: 'OrderId', type: 'integer', nullable: false, toastable: false }], primaryKey: ['OrderId'] },
      sinkSchema.parse({ naming: 'snake_case', schemas: { Sales: 'sales' } }),
    );
    expect(mapped).toEqual({ id: { schema: 'sales', name: 'order_line' }, columns: [{ name: 'order_id', type: 'integer', nullable: false, toastable: false }], primaryKey: ['order_id'] });
  });
});
