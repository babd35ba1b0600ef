import type pg from 'pg';
import { exec, one, rows, type Queryable } from '../../db/query.js';
import { sqlStateOf } from '../../db/errors.js';
import { ConfigError } from '../../errors.js';
import {
  CDC_IDENTIFIER,
  createPublication,
  createSlot,
  deleteSlot,
  recordHeartbeat,
  markPublishedBulk,
  selectPublication,
  selectSlot,
  selectSlotLag,
  selectUnpublishedAggregates,
  selectWalLevel,
  tryOwnSlot,
} from '../sql/cdc.js';

export { CDC_IDENTIFIER } from '../sql/cdc.js';

/**
 * The CDC relay's PostgreSQL side (relay run --mode cdc): the setting it needs, the publication and
 * slot it creates when missing, the ownership of the slot, the heartbeat, the lag and the bulk mark.
 */

export const SqlStateCdc = {
  DUPLICATE_OBJECT: '42710', // the slot or publication exists (a concurrent create won)
  UNDEFINED_OBJECT: '42704', // replication slot does not exist (dropped)
  OBJECT_IN_USE: '55006', // replication slot is active for another PID
  NOT_IN_PREREQUISITE_STATE: '55000', // the slot was invalidated (its WAL removed): it can no longer stream
} as const;

/** A CDC-only name (slot, publication): a ConfigError (exit 3) unless PostgreSQL takes it unquoted. */
export function checkCdcIdentifier(what: string, name: string): string {
  if (!CDC_IDENTIFIER.test(name))
    throw new ConfigError(`${what} must be a lower-case identifier (a-z, 0-9, _; at most 63), got ${name}`);
  return name;
}

/** ConfigError (exit 3) naming wal_level unless the server can decode logically. */
export async function checkWalLevel(db: Queryable): Promise<void> {
  const row = await one<{ walLevel: string }>(db, selectWalLevel());
  if (row?.walLevel !== 'logical')
    throw new ConfigError(
      `relay --mode cdc needs wal_level = logical, but this PostgreSQL server has wal_level = ${row?.walLevel}: ` +
        'set wal_level = logical (and max_replication_slots, max_wal_senders) and restart it, or run the relay in --mode lease',
    );
}

/**
 * Creates the publication (inserts into outbox_event) unless it exists; a concurrent create is fine.
 * One that exists but does not publish outbox_event's inserts is a ConfigError: the relay would read
 * nothing from it.
 */
export async function ensurePublication(db: Queryable, publication: string): Promise<'created' | 'exists'> {
  let found = await one<{ inserts: boolean; hasTable: boolean }>(db, selectPublication(publication));
  let created = false;
  if (!found) {
    try {
      await db.query(createPublication(publication));
      created = true;
    } catch (err) {
      if (sqlStateOf(err) !== SqlStateCdc.DUPLICATE_OBJECT) throw err;
    }
    found = await one(db, selectPublication(publication));
  }
  if (!found?.inserts || !found.hasTable)
    throw new ConfigError(
      `publication ${publication} exists but does not publish inserts into outbox_event: ` +
        `ALTER PUBLICATION ${publication} ADD TABLE outbox_event, or name another with --publication`,
    );
  return created ? 'created' : 'exists';
}

export interface SlotState {
  plugin: string;
  sameDatabase: boolean;
  active: boolean;
  activePid: number | null;
  confirmedLsn: string | null;
  /** reserved, extended, unreserved, or lost (its WAL was removed: it cannot stream again). */
  walStatus: string | null;
}

export function slotState(db: Queryable, slot: string): Promise<SlotState | undefined> {
  return one<SlotState>(db, selectSlot(slot));
}

/**
 * The slot, created if missing (pgoutput): `created` says whether this call created it, in which case
 * rows committed before its consistent point will never come through it (the caller publishes them by
 * the polling claim first). A slot of another plugin or database is a ConfigError. A concurrent create
 * (42710) is not ours: it is treated as existing.
 */
export async function ensureSlot(
  db: Queryable,
  slot: string,
): Promise<{ created: boolean; state: SlotState }> {
  let created = false;
  if (!(await slotState(db, slot))) {
    try {
      await db.query(createSlot(slot));
      created = true;
    } catch (err) {
      if (sqlStateOf(err) !== SqlStateCdc.DUPLICATE_OBJECT) throw err;
    }
  }
  const state = await slotState(db, slot);
  if (!state) throw new Error(`replication slot ${slot} vanished right after it was created`);
  if (state.plugin !== 'pgoutput' || !state.sameDatabase)
    throw new ConfigError(
      `replication slot ${slot} exists but is not a pgoutput slot of this database (plugin ${state.plugin}): name another with --slot`,
    );
  return { created, state };
}

/** Drops a slot that can no longer stream (invalidated); false if it is gone or in use. */
export async function dropDeadSlot(db: Queryable, slot: string): Promise<boolean> {
  try {
    await db.query(deleteSlot(slot));
    return true;
  } catch (err) {
    const state = sqlStateOf(err);
    if (state === SqlStateCdc.UNDEFINED_OBJECT || state === SqlStateCdc.OBJECT_IN_USE) return false;
    throw err;
  }
}

/** Tries the slot's session advisory lock on `client` (held until its session ends). */
export async function tryOwnSlotLock(client: pg.ClientBase, slot: string): Promise<boolean> {
  return (await one<{ ok: boolean }>(client, tryOwnSlot(slot)))?.ok === true;
}

export const HEARTBEAT_PREFIX = 'commerce.outbox.cdc.heartbeat';

export async function sendHeartbeat(db: Queryable): Promise<void> {
  await db.query(recordHeartbeat(HEARTBEAT_PREFIX));
}

export function slotLag(
  db: Queryable,
  slot: string,
): Promise<{ lagBytes: number; retainedBytes: number } | undefined> {
  return one(db, selectSlotLag(slot));
}

/** PUBLISHED in one statement (unnest); returns how many were still PENDING. */
export function markPublishedInBulk(db: Queryable, ids: number[]): Promise<number> {
  return exec(db, markPublishedBulk(ids));
}

/** Which of these aggregates still have an unpublished row. */
export function unpublishedAggregates(
  db: Queryable,
  aggregates: Array<{ type: string; id: string }>,
): Promise<Array<{ type: string; id: string }>> {
  return rows(db, selectUnpublishedAggregates(aggregates));
}
