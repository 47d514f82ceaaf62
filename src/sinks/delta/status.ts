/**
 * `cdc status` of a Delta location: each pipeline's checkpoint (from its batch log and idle
 * positions) and per-table copy state, read without writing anything.
 */
import { CdcError } from '../../errors.js';
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
      const tables = snapshots
        ? (JSON.parse(decode(snapshots)) as { schema: string; name: string; state: string; rows: number }[]).map((s) => ({
            table: `${s.schema}.${s.name}`,
            schema: s.schema,
            name: s.name,
            snapshot: s.state,
            rows: s.rows,
            mergeCount: 0,
            lastMerge: null,
            lastMergeRows: null,
          }))
        : [];
      return { positions, tables };
    },
    merges(): Promise<MergeStatusReport> {
      return Promise.resolve({ tables: [], recentErrors: [], lag: [], gaps: [] });
    },
    close: () => Promise.resolve(),
  });
}
