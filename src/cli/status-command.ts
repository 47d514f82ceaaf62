/**
 * `cdc status`: slot lag (bytes and seconds), snapshot progress, per-table rows and last merge.
 */
import { CdcError } from '../errors.js';
import { formatLsn } from '../events/lsn.js';
import { connectPostgres } from '../sql/connect.js';
import { quoteTable } from '../sql/quote.js';
import { readSlot } from '../sources/postgres/slot.js';
import { validatePipelineName } from '../sources/postgres/source.js';
import { EXIT } from './errors.js';
import { collectMergeStatus, formatMergeStatus } from './merge-status.js';

/** Flags of `cdc status`. */
export interface StatusFlags {
  source?: string;
  target?: string;
  name?: string;
  json?: boolean;
}

/** The report `cdc status --json` prints. */
export interface StatusReport {
  readonly pipeline: string;
  readonly slot: null | {
    readonly active: boolean;
    readonly walStatus: string | null;
    readonly confirmedFlushLsn: string | null;
    readonly currentLsn: string;
    /** WAL not yet confirmed by the pipeline, in bytes. */
    readonly lagBytes: number | null;
    /** Seconds since the last merge while WAL is waiting (0 when caught up). */
    readonly lagSeconds: number | null;
    /** WAL the slot keeps on the source, in bytes. */
    readonly retainedBytes: number | null;
  };
  readonly mergedLsn: string | null;
  readonly tables: readonly {
    readonly table: string;
    readonly snapshot: string;
    readonly rows: number;
    readonly mergeCount: number;
    readonly lastMerge: string | null;
    readonly lastMergeRows: number | null;
  }[];
}

/** Builds the report. */
export async function collectStatus(flags: StatusFlags): Promise<StatusReport> {
  if (!flags.source || !flags.target) {
    throw new CdcError('CONFIG_INVALID', 'cdc status needs --source and --target (or --target alone for the merge status views)', {
      remedy: 'pass both URLs, as for cdc run, or only --target',
    });
  }
  const pipeline = flags.name ?? 'cdc';
  validatePipelineName(pipeline);
  const source = await connectPostgres(flags.source, { role: 'source' });
  const target = await connectPostgres(flags.target, { role: 'target' }).catch(async (e: unknown) => {
    await source.end();
    throw e;
  });
  try {
    const slot = await readSlot(source, pipeline);
    const infra = await target.query<{ ok: boolean }>("SELECT to_regclass('cdc_management.offsets') IS NOT NULL AS ok");
    if (!infra.rows[0]?.ok) {
      throw new CdcError('NOT_INITIALIZED', 'the target has no cdc_management schema yet', { remedy: 'start the pipeline with cdc run first' });
    }
    const offsets = await target.query<{ position: string; age: number }>(
      "SELECT position::text, extract(epoch FROM now() - updated_at)::float8 AS age FROM cdc_management.offsets WHERE pipeline = $1 AND source_partition = ''",
      [pipeline],
    );
    const merged = offsets.rows[0];
    const tables = await target.query<{
      schema_name: string;
      table_name: string;
      state: string | null;
      rows_copied: string | null;
      merge_count: string | null;
      last_merge_time: Date | null;
      last_merge_rows: string | null;
    }>(
      `SELECT d.schema_name, d.table_name, s.state, s.rows_copied::text, m.merge_count::text, m.last_merge_time, m.last_merge_rows::text
         FROM cdc_management.table_definitions d
         LEFT JOIN cdc_management.snapshot_progress s USING (pipeline, schema_name, table_name)
         LEFT JOIN cdc_management.merge_control m ON m.schema_name = d.schema_name AND m.table_name = d.table_name
        WHERE d.pipeline = $1 ORDER BY 1, 2`,
      [pipeline],
    );
    const rows = [];
    for (const t of tables.rows) {
      const count = await target.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteTable({ schema: t.schema_name, name: t.table_name })}`);
      rows.push({
        table: `${t.schema_name}.${t.table_name}`,
        snapshot: t.state ?? 'pending',
        rows: Number(count.rows[0]!.n),
        mergeCount: Number(t.merge_count ?? 0),
        lastMerge: t.last_merge_time ? t.last_merge_time.toISOString() : null,
        lastMergeRows: t.last_merge_rows === null ? null : Number(t.last_merge_rows),
      });
    }
    const lagBytes = slot?.confirmedFlushLsn != null ? Number(slot.currentLsn - slot.confirmedFlushLsn) : null;
    return {
      pipeline,
      slot: slot && {
        active: slot.active,
        walStatus: slot.walStatus,
        confirmedFlushLsn: slot.confirmedFlushLsn === null ? null : formatLsn(slot.confirmedFlushLsn),
        currentLsn: formatLsn(slot.currentLsn),
        lagBytes,
        lagSeconds: lagBytes === null ? null : lagBytes === 0 || !merged ? 0 : Math.round(merged.age * 10) / 10,
        retainedBytes: slot.retainedBytes === null ? null : Number(slot.retainedBytes),
      },
      mergedLsn: merged ? formatLsn(BigInt(merged.position)) : null,
      tables: rows,
    };
  } finally {
    await source.end();
    await target.end();
  }
}

/** Renders the report as text for a terminal. */
export function formatStatus(r: StatusReport): string {
  const lines = [`pipeline ${r.pipeline}`];
  if (!r.slot) lines.push('  slot: none (run cdc run to create it)');
  else {
    lines.push(
      `  slot: ${r.slot.active ? 'active' : 'inactive'}, wal_status ${r.slot.walStatus ?? '-'}, confirmed ${r.slot.confirmedFlushLsn ?? '-'}, current ${r.slot.currentLsn}`,
      `  lag: ${r.slot.lagBytes ?? '-'} bytes, ${r.slot.lagSeconds ?? '-'} s; WAL retained ${r.slot.retainedBytes ?? '-'} bytes`,
    );
  }
  lines.push(`  merged up to: ${r.mergedLsn ?? '-'}`, '');
  const header = ['table', 'snapshot', 'rows', 'merges', 'last merge', 'last rows'];
  const body = r.tables.map((t) => [t.table, t.snapshot, String(t.rows), String(t.mergeCount), t.lastMerge ?? '-', t.lastMergeRows === null ? '-' : String(t.lastMergeRows)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  for (const row of [header, ...body]) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  return lines.join('\n');
}

/** Runs `cdc status`; resolves to the exit code. */
export async function statusCommand(flags: StatusFlags): Promise<number> {
  if (flags.target && !flags.source) {
    const merge = await collectMergeStatus(flags.target);
    process.stdout.write(flags.json ? `${JSON.stringify(merge, null, 2)}\n` : `${formatMergeStatus(merge)}\n`);
    return EXIT.ok;
  }
  const report = await collectStatus(flags);
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatStatus(report)}\n`);
  return EXIT.ok;
}
