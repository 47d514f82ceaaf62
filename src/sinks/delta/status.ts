/**
 * `cdc status` of a Delta location: each pipeline's checkpoint (from its batch log and idle
 * positions), per-table copy state, and per-table merges (batches, the last one's time and
 * rows) from the processing log `_cdc/batches`, read without writing anything.
 */
import { pino } from 'pino';
import { CdcError } from '../../errors.js';
import { DeltaTable } from './delta-table.js';
import type { LakeStorage } from '../lake/storage.js';
import type { SinkStatusReader } from '../sink-dialect.js';
import type { MergeStatusReport, TargetStatus } from '../sink-status.js';
import { checkpointFromJson, type CheckpointJson } from './checkpoint-json.js';
import { commitPath, parseCommit, readSnapshot } from './delta-log.js';

/** Reads the status of the pipelines under a Delta location (a local directory or an object store). */
export function openDeltaStatusReader(storage: LakeStorage): Promise<SinkStatusReader> {
  const location = storage.description;
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return Promise.resolve({
    async pipeline(name: string): Promise<TargetStatus> {
      const appId = `cdc-merge:${name}`;
      const batches = await readSnapshot(storage, '_cdc/batches');
      const state = `_cdc/pipelines/${encodeURIComponent(name)}`;
      const snapshots = await storage.read(`${state}/snapshots.json`);
      if (batches.version < 0 && !snapshots) {
        throw new CdcError('NOT_INITIALIZED', `${location} holds no Delta tables of cdc-merge pipeline ${name}`, { remedy: 'run cdc run first, or check --name and the location' });
      }
      let checkpoint: CheckpointJson | undefined;
      let committedMs = 0;
      for (let v = batches.version; v >= 0 && !checkpoint; v--) {
        const bytes = await storage.read(commitPath('_cdc/batches', v));
        for (const action of bytes ? parseCommit(decode(bytes), commitPath('_cdc/batches', v)) : []) {
          const info = 'commitInfo' in action ? (action.commitInfo as { timestamp?: number; cdcMerge?: { appId?: string; checkpoint?: CheckpointJson } }) : undefined;
          if (info?.cdcMerge?.appId === appId && info.cdcMerge.checkpoint) {
            checkpoint = info.cdcMerge.checkpoint;
            committedMs = info.timestamp ?? 0;
          }
        }
      }
      const idleBytes = await storage.read(`${state}/positions.json`);
      if (idleBytes) {
        const idle = JSON.parse(decode(idleBytes)) as { afterBatch: number; checkpoint: CheckpointJson };
        if (idle.afterBatch === (batches.txns.get(appId) ?? 0)) checkpoint = idle.checkpoint;
      }
      const ageSeconds = committedMs > 0 ? Math.round((Date.now() - committedMs) / 1000) : 0;
      const positions = checkpoint ? [...checkpointFromJson(checkpoint).positions.values()].map((p) => ({ ...p, ageSeconds })) : [];
      // Merges per table from the processing log (_cdc/batches): how many batches touched it, the last.
      const merges = new Map<string, { count: number; last: bigint; rows: number }>();
      if (batches.version >= 0) {
        const log = await DeltaTable.openExisting(storage, '_cdc/batches', { changeDataFeed: false, maxRowsPerFile: 100_000 }, pino({ level: 'silent' }));
        const at = (name: string) => log.columns.findIndex((c) => c.name === name);
        const [pipelineAt, tablesAt, timeAt] = [at('pipeline'), at('tables'), at('committed_at')];
        for (const row of await log.rows()) {
          if (row[pipelineAt] !== name || typeof row[tablesAt] !== 'string') continue;
          const time = row[timeAt] as bigint;
          for (const t of JSON.parse(row[tablesAt]) as ({ table: string; inserted: number; updated: number; deleted: number } | string)[]) {
            if (typeof t === 'string') continue; // rows of the first release named tables only
            const current = merges.get(t.table) ?? { count: 0, last: -1n, rows: 0 };
            current.count++;
            if (time > current.last) {
              current.last = time;
              current.rows = t.inserted + t.updated + t.deleted;
            }
            merges.set(t.table, current);
          }
        }
      }
      const tables = snapshots
        ? (JSON.parse(decode(snapshots)) as { schema: string; name: string; state: string; rows: number }[]).map((s) => {
            const m = merges.get(`${encodeURIComponent(s.schema)}/${encodeURIComponent(s.name)}`);
            return {
              table: `${s.schema}.${s.name}`,
              schema: s.schema,
              name: s.name,
              snapshot: s.state,
              rows: s.rows,
              mergeCount: m?.count ?? 0,
              lastMerge: m ? new Date(Number(m.last / 1000n)).toISOString() : null,
              lastMergeRows: m ? m.rows : null,
            };
          })
        : [];
      return { positions, tables };
    },
    merges(): Promise<MergeStatusReport> {
      return Promise.resolve({ tables: [], recentErrors: [], lag: [], gaps: [] });
    },
    close: () => Promise.resolve(),
  });
}
