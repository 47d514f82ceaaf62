/**
 * Logical replication slots: create with an exported snapshot, inspect, drop.
 * @see https://www.postgresql.org/docs/current/protocol-replication.html (CREATE_REPLICATION_SLOT)
 * @see https://www.postgresql.org/docs/current/view-pg-replication-slots.html
 */
import type pg from 'pg';
import { CdcError, sqlState } from '../../errors.js';
import { parseLsn } from '../../events/lsn.js';
import { quoteIdent } from '../../sql/quote.js';

/** A slot just created on a replication connection. */
export interface CreatedSlot {
  readonly name: string;
  /** LSN from which the slot's changes start; the exported snapshot sees exactly what precedes it. */
  readonly consistentPoint: bigint;
  /**
   * Name of the exported snapshot, usable with SET TRANSACTION SNAPSHOT on other connections
   * until the replication connection runs its next command or closes.
   */
  readonly snapshotName: string;
}

/** A slot's state as pg_replication_slots reports it. */
export interface SlotState {
  readonly name: string;
  /** `logical` or `physical`. */
  readonly slotType: string;
  /** Output plugin of a logical slot (`pgoutput` for a pipeline's), null for a physical one. */
  readonly plugin: string | null;
  /** Database a logical slot decodes, null for a physical one. */
  readonly database: string | null;
  readonly active: boolean;
  readonly activePid: number | null;
  /** Position up to which the client has confirmed (bytes of WAL), or null. */
  readonly confirmedFlushLsn: bigint | null;
  readonly restartLsn: bigint | null;
  /** `reserved`, `extended`, `unreserved` or `lost` (invalidated), or null. */
  readonly walStatus: string | null;
  /** The server's current WAL insert position (bytes). */
  readonly currentLsn: bigint;
  /** WAL retained for the slot: current LSN − restart LSN (bytes), or null. */
  readonly retainedBytes: bigint | null;
}

/**
 * Creates a logical slot using pgoutput and exports its snapshot. Run on a replication-mode
 * connection that has run no other command in its current transaction state.
 * @param temporary a temporary slot is dropped when its connection closes (used to take a
 *   fresh snapshot for resuming an interrupted table copy).
 * @throws {CdcError} SLOT_EXISTS when the name is taken; SLOTS_EXHAUSTED when
 *   max_replication_slots is reached; PERMISSION_DENIED without the REPLICATION attribute.
 */
export async function createSlotWithSnapshot(
  replication: pg.Client,
  name: string,
  options: { temporary?: boolean; serverVersion: number },
): Promise<CreatedSlot> {
  const temporary = options.temporary ? ' TEMPORARY' : '';
  const sql =
    options.serverVersion >= 150000
      ? `CREATE_REPLICATION_SLOT ${quoteIdent(name)}${temporary} LOGICAL pgoutput (SNAPSHOT 'export')`
      : `CREATE_REPLICATION_SLOT ${quoteIdent(name)}${temporary} LOGICAL pgoutput EXPORT_SNAPSHOT`;
  try {
    const { rows } = await replication.query<{ consistent_point: string; snapshot_name: string }>(sql);
    const row = rows[0]!;
    return { name, consistentPoint: parseLsn(row.consistent_point), snapshotName: row.snapshot_name };
  } catch (error) {
    const state = sqlState(error);
    if (state === '42710')
      throw new CdcError('SLOT_EXISTS', `replication slot "${name}" already exists`, { cause: error });
    if (state === '53400')
      throw new CdcError('SLOTS_EXHAUSTED', 'all replication slots are in use on the source', {
        cause: error,
        remedy: 'raise max_replication_slots on the source (needs a restart) or drop an unused slot with pg_drop_replication_slot()',
      });
    if (state === '42501')
      throw new CdcError('PERMISSION_DENIED', `not allowed to create replication slot "${name}"`, {
        cause: error,
        remedy: 'connect as a role with the REPLICATION attribute: ALTER ROLE <user> REPLICATION',
      });
    throw error;
  }
}

/** Reads a slot's state, or null when there is no slot of that name. */
export async function readSlot(client: pg.ClientBase, name: string): Promise<SlotState | null> {
  const { rows } = await client.query<{
    slot_name: string;
    slot_type: string;
    plugin: string | null;
    database: string | null;
    active: boolean;
    active_pid: number | null;
    confirmed_flush_lsn: string | null;
    restart_lsn: string | null;
    wal_status: string | null;
    current_lsn: string;
  }>(
    `SELECT s.slot_name, s.slot_type, s.plugin, s.database, s.active, s.active_pid, s.confirmed_flush_lsn::text,
            s.restart_lsn::text, s.wal_status, pg_current_wal_lsn()::text AS current_lsn
       FROM pg_replication_slots s WHERE s.slot_name = $1`,
    [name],
  );
  const r = rows[0];
  if (!r) return null;
  const restart = r.restart_lsn ? parseLsn(r.restart_lsn) : null;
  const current = parseLsn(r.current_lsn);
  return {
    name: r.slot_name,
    slotType: r.slot_type,
    plugin: r.plugin,
    database: r.database,
    active: r.active,
    activePid: r.active_pid,
    confirmedFlushLsn: r.confirmed_flush_lsn ? parseLsn(r.confirmed_flush_lsn) : null,
    restartLsn: restart,
    walStatus: r.wal_status,
    currentLsn: current,
    retainedBytes: restart === null ? null : current - restart,
  };
}

/**
 * Checks that an existing slot of a pipeline's name can be the pipeline's own: a logical slot
 * of the pgoutput plugin on the database the source connects to. Anything else is some other
 * user's slot that happens to have the name; taking it would stream another database's changes
 * (or fail on every start), and `--resync` would drop it.
 * @param database the connection's `current_database()`.
 * @throws {CdcError} SLOT_NAME_TAKEN naming what owns the slot.
 */
export function checkSlotOwner(slot: SlotState, database: string): void {
  const owner =
    slot.slotType !== 'logical'
      ? `is a ${slot.slotType} replication slot`
      : slot.database !== database
        ? `belongs to database "${slot.database ?? ''}", not "${database}"`
        : slot.plugin !== 'pgoutput'
          ? `uses the output plugin "${slot.plugin ?? ''}", not "pgoutput"`
          : undefined;
  if (owner === undefined) return;
  throw new CdcError('SLOT_NAME_TAKEN', `replication slot "${slot.name}" ${owner}: it is not this pipeline's slot`, {
    remedy: `choose another --name for this pipeline (it names the slot and the publication); leave slot "${slot.name}" to whoever created it`,
    context: { slot: slot.name, slotType: slot.slotType, database: slot.database, plugin: slot.plugin },
  });
}

/** Drops a slot if it exists (terminating a walsender that still holds it). */
export async function dropSlot(client: pg.ClientBase, name: string): Promise<void> {
  await client.query(
    `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`,
    [name],
  );
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [name]);
      return;
    } catch (error) {
      if (sqlState(error) !== '55006') throw error; // object_in_use: the walsender is still exiting
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
