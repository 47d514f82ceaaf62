import { describe, expect, it } from 'vitest';
import { applyIdentifierCase, snakeCase } from './identifier-case.js';

describe('identifier naming', () => {
  it.each([
    ['InvoiceLine', 'invoice_line'],
    ['BillingPostalCode', 'billing_postal_code'],
    ['AlbumId', 'album_id'],
    ['HTMLPage', 'html_page'],
    ['ID', 'id'],
    ['userID', 'user_id'],
    ['Address2', 'address2'],
    ['already_snake', 'already_snake'],
    ['_private', '_private'],
    ['Order Details', 'order_details'],
    ['e-mail', 'e_mail'],
    ['ÄrgerNis', 'ärger_nis'],
  ])('snake_case %s → %s', (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });

  it('preserve and lower', () => {
    expect(applyIdentifierCase('preserve', 'InvoiceLine')).toBe('InvoiceLine');
    expect(applyIdentifierCase('lower', 'InvoiceLine')).toBe('invoiceline');
  });
});
