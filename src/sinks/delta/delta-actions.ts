/**
 * The actions of the Delta transaction log and a table's reconciled state (types only, shared by
 * the log reader, its checkpoints and tombstones).
 * @see https://github.com/delta-io/delta/blob/master/PROTOCOL.md (Actions, Action Reconciliation)
 */

import type { DeletionVectorDescriptor } from './deletion-vector.js';

/** `add`: a data file joins the table (PROTOCOL.md "Add File and Remove File"). */
export interface AddAction {
  /** Relative to the table root, URI-encoded (our names need no encoding). */
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  /** Bytes. */
  readonly size: number;
  /** ms since 1970-01-01 UTC. */
  readonly modificationTime: number;
  /** False for rewrites that change no data (compaction). */
  readonly dataChange: boolean;
  /** JSON text: numRecords, minValues, maxValues, nullCount, tightBounds ("Per-file Statistics"). */
  readonly stats?: string;
  /** Rows of the file that are logically deleted ("Deletion Vectors"); the logical file is (path, vector). */
  readonly deletionVector?: DeletionVectorDescriptor;
}

/** `remove`: a data file leaves the table (kept as a tombstone for vacuum). */
export interface RemoveAction {
  readonly path: string;
  /** ms since 1970-01-01 UTC (optional in the protocol; the sink always writes it). */
  readonly deletionTimestamp?: number;
  readonly dataChange: boolean;
  readonly extendedFileMetadata: boolean;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  /** Bytes. */
  readonly size: number;
  /** The deletion vector of the logical file removed, when it had one. */
  readonly deletionVector?: DeletionVectorDescriptor;
}

/** `cdc`: a change data file under `_change_data/` ("Add CDC File"); never a data change. */
export interface CdcAction {
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  /** Bytes. */
  readonly size: number;
  readonly dataChange: false;
}

/** `metaData` ("Change Metadata"): the table's schema, partitioning and properties. */
export interface MetaDataAction {
  /** A GUID identifying the table. */
  readonly id: string;
  readonly format: { readonly provider: 'parquet'; readonly options: Readonly<Record<string, string>> };
  /** The schema as JSON text ("Schema Serialization Format"). */
  readonly schemaString: string;
  readonly partitionColumns: readonly string[];
  readonly configuration: Readonly<Record<string, string>>;
  /** ms since 1970-01-01 UTC. */
  readonly createdTime?: number;
}

/** `protocol` ("Protocol Evolution"). */
export interface ProtocolAction {
  readonly minReaderVersion: number;
  readonly minWriterVersion: number;
  readonly readerFeatures?: readonly string[];
  readonly writerFeatures?: readonly string[];
}

/** `txn` ("Transaction Identifiers"): the last version an application committed. */
export interface TxnAction {
  readonly appId: string;
  readonly version: number;
  /** ms since 1970-01-01 UTC. */
  readonly lastUpdated?: number;
}

/** One action of a commit (one line of `NNN.json`). */
export type DeltaAction =
  | { readonly add: AddAction }
  | { readonly remove: RemoveAction }
  | { readonly cdc: CdcAction }
  | { readonly metaData: MetaDataAction }
  | { readonly protocol: ProtocolAction }
  | { readonly txn: TxnAction }
  | { readonly commitInfo: Readonly<Record<string, unknown>> };

/** A table's state at one version: the reconciliation of its log up to that version. */
export interface DeltaSnapshot {
  /** The version (-1 when the table has no log yet). */
  readonly version: number;
  readonly protocol: ProtocolAction | undefined;
  readonly metaData: MetaDataAction | undefined;
  /** Live data files by path (a path is live with at most one deletion vector at a time). */
  readonly files: ReadonlyMap<string, AddAction>;
  /**
   * Tombstones by path: files removed and not re-added, kept for vacuum and for checkpoints
   * until they expire (`delta.deletedFileRetentionDuration` after their `deletionTimestamp`).
   * Tombstones older than that before the newest remove read are dropped as commits are
   * applied, so the set stays bounded by the retention window.
   */
  readonly removes: ReadonlyMap<string, RemoveAction>;
  /** The latest `txn.version` by appId. */
  readonly txns: ReadonlyMap<string, number>;
  /** The `commitInfo` of each version read, newest last (only what {@link readSnapshot} kept). */
  readonly lastCommitInfo: Readonly<Record<string, unknown>> | undefined;
}
