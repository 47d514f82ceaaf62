/**
 * The demo's and the benchmark's rendering of a source-versus-target comparison.
 */
import type { TableComparison } from '../verify/compare.js';
import { formatCount, renderTable } from '../observability/text-table.js';

/** The comparison as a table (rows on each side, checksums equal) plus sample differences. */
export function renderComparison(results: readonly TableComparison[]): string {
  const table = renderTable(
    ['table', 'source rows', 'target rows', 'checksum equal'],
    results.map((r) => [r.table, formatCount(r.sourceRows), formatCount(r.targetRows), r.equal ? 'yes' : 'NO']),
    ['left', 'right', 'right', 'left'],
  );
  const samples = results.filter((r) => !r.equal && r.differences.length > 0).map((r) => `  ${r.table} differs, e.g.:\n${r.differences.map((d) => `    ${d}`).join('\n')}`);
  return [table, ...samples].join('\n');
}
