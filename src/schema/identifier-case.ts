/**
 * Identifier naming per sink (DESIGN.md §5), as pgloader offers it: `preserve` keeps the source
 * spelling (quoted where needed, `"InvoiceLine"`), `lower` lower-cases it, `snake_case` splits
 * words at case changes (`InvoiceLine` → `invoice_line`, `BillingPostalCode` →
 * `billing_postal_code`, `HTMLPage` → `html_page`).
 */

/** How a sink spells identifiers taken from the source. */
export type IdentifierCase = 'preserve' | 'lower' | 'snake_case';

/**
 * Snake case: an underscore goes between a lower-case letter or digit and the upper-case letter
 * after it, and between an upper-case run and the capitalised word after it (`HTMLPage` →
 * `html_page`); spaces, hyphens and dots become underscores; runs of underscores collapse; the
 * result is lower case. Leading underscores are kept (`_id` stays `_id`).
 */
export function snakeCase(name: string): string {
  const lead = /^_*/.exec(name)![0];
  const words = name
    .slice(lead.length)
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1_$2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1_$2')
    .replace(/[\s.-]+/g, '_')
    .replace(/_+/g, '_')
    .toLowerCase();
  return lead + words;
}

/** Applies a naming rule to one identifier. */
export function applyIdentifierCase(rule: IdentifierCase, name: string): string {
  switch (rule) {
    case 'preserve':
      return name;
    case 'lower':
      return name.toLowerCase();
    case 'snake_case':
      return snakeCase(name);
  }
}
