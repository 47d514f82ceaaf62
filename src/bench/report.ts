/**
 * The benchmark's result table: each measure for both peers and their ratio, oriented so that a
 * ratio above 1 always means cdc-merge was faster.
 */
import { formatCount, renderTable } from '../observability/text-table.js';
import type { BenchConfig, PeerResult } from './common.js';

const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Renders the comparison of `native` and `cdc` (either may be missing when only one peer ran). */
export function renderResults(config: BenchConfig, native: PeerResult | undefined, cdc: PeerResult | undefined): string {
  const measures: { name: string; value: (r: PeerResult) => number; lowerIsBetter: boolean; digits: number; count?: boolean }[] = [
    { name: 'initial sync (s)', value: (r) => r.initialSyncSeconds, lowerIsBetter: true, digits: 2 },
    { name: '  of which: every table copied (s)', value: (r) => r.initialCopySeconds, lowerIsBetter: true, digits: 2 },
    { name: 'initial sync (rows/s)', value: (r) => r.initialRows / r.initialSyncSeconds, lowerIsBetter: false, digits: 0, count: true },
    { name: 'catch-up (s)', value: (r) => r.catchUpSeconds, lowerIsBetter: true, digits: 2 },
    { name: '  of which: all visible (s)', value: (r) => r.catchUpVisibleSeconds, lowerIsBetter: true, digits: 2 },
    { name: 'catch-up (changes/s)', value: (r) => r.changes / r.catchUpSeconds, lowerIsBetter: false, digits: 0, count: true },
    { name: 'pgbench while stopped (tps)', value: (r) => r.pgbench.tps, lowerIsBetter: false, digits: 0, count: true },
  ];
  const show = (r: PeerResult | undefined, m: (typeof measures)[number]) => {
    if (!r) return '-';
    const v = m.value(r);
    return m.count ? formatCount(v) : fixed(v, m.digits);
  };
  const rows = measures.map((m) => {
    let ratio = '-';
    if (native && cdc && m.name.startsWith('pgbench') === false) {
      const [a, b] = [m.value(native), m.value(cdc)];
      ratio = `${fixed(m.lowerIsBetter ? a / b : b / a)}×`;
    }
    return [m.name, show(native, m), show(cdc, m), ratio];
  });
  const verified = (r: PeerResult | undefined) => (r ? `${r.comparison.filter((c) => c.equal).length}/${r.comparison.length} tables equal` : '-');
  rows.push(['verification', verified(native), verified(cdc), '']);
  const changes = (native ?? cdc)?.changes ?? 0;
  const rowsCopied = (native ?? cdc)?.initialRows ?? 0;
  return [
    `pgbench scale ${config.scale}: ${formatCount(rowsCopied)} rows to copy; ${formatCount((native ?? cdc)?.pgbench.transactions ?? 0)} transactions ` +
      `(${config.clients} clients) = ${formatCount(changes)} row changes to catch up`,
    '',
    renderTable(['measure', 'native', 'cdc-merge', 'ratio (>1: cdc-merge faster)'], rows, ['left', 'right', 'right', 'right']),
  ].join('\n');
}
