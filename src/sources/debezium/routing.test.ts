import { describe, expect, it } from 'vitest';
import { compileRoutes } from './routing.js';

describe('Debezium routing', () => {
  const source = { schema: 'public', name: 'invoice' };
  it('defaults to the source table; the first matching route wins; placeholders fill in', () => {
    const route = compileRoutes({ 'chinook.public.invoice': 'billing.invoices', 'chinook.public.*': 'archive.{schema}_{table}', 'other.>': '{schema}.{table}_copy' });
    expect(route(source, 'chinook.public.invoice')).toEqual({ schema: 'billing', name: 'invoices' });
    expect(route({ schema: 'public', name: 'track' }, 'chinook.public.track')).toEqual({ schema: 'archive', name: 'public_track' });
    expect(route(source, 'other.a.b.c')).toEqual({ schema: 'public', name: 'invoice_copy' });
    expect(route(source, 'chinook.sales.invoice')).toEqual(source);
  });

  it('names a malformed route', () => {
    expect(() => compileRoutes({ 'a.>.b': 'x.y' })).toThrow(/subject pattern "a\.>\.b": ">" must be the last token/);
    expect(() => compileRoutes({ 'a.b': 'nodot' })).toThrow(/"a\.b" → "nodot" is not schema\.table/);
  });
});
