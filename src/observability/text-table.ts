/**
 * Plain-text tables for the demo and the benchmark: left-aligned text, right-aligned numbers,
 * two spaces between columns.
 */

/** How a column is aligned. */
export type Align = 'left' | 'right';

/**
 * Renders `rows` under `header`, each line prefixed with `indent`.
 * @param align per column; columns without an entry are left-aligned.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = [], indent = '  '): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent +
    widths
      .map((w, i) => {
        const cell = cells[i] ?? '';
        return align[i] === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  const rule = indent + widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A whole number with thousands separators, e.g. `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
