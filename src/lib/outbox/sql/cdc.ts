import { sql } from '../../db/query.js';
import { blocked, pending, UNLEASE, unpublished } from './states.js';

/**
 * The CDC relay's statements (relay run --mode cdc, outbox/cdc/): the publication and the logical
 * replication slot it reads outbox_event's inserts through, its ownership, its heartbeat, its lag,
 * and the bulk mark after Kafka acknowledged.
 */

/** `logical` is what logical decoding needs; `replica` (the default) cannot decode. */
export function selectWalLevel() {
  return sql('outbox.select-wal-level', `SELECT current_setting('wal_level') AS "walLevel"`);
}

/** Whether the publication exists and publishes inserts into outbox_event. */
export function selectPublication(publication: string) {
  return sql(
    'outbox.select-publication',
    `SELECT p.pubinsert AS inserts,
            EXISTS (SELECT 1 FROM pg_publication_tables t
                     WHERE t.pubname = p.pubname AND t.tablename = 'outbox_event'
                       AND t.schemaname = current_schema()) AS "hasTable"
       FROM pg_publication p WHERE p.pubname = $1`,
    [publication],
  );
}

/**
 * Inserts only: the relay needs nothing else, and updates (claims, marks) would be decoded and sent
 * for nothing. DDL takes no parameters: the name is an identifier the caller validated
 * (CDC_IDENTIFIER), quoted here; the statement's name carries it, one text per name.
 */
export function createPublication(publication: string) {
  return sql(
    `outbox.create-publication-${publication}`,
    `CREATE PUBLICATION "${publication}" FOR TABLE outbox_event WITH (publish = 'insert')`,
  );
}

/** Slot and publication names: lower-case identifiers PostgreSQL accepts for both, unquoted. */
export const CDC_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function selectSlot(slot: string) {
  return sql(
    'outbox.select-slot',
    `SELECT s.plugin, s.database = current_database() AS "sameDatabase", s.active,
            s.active_pid AS "activePid", s.confirmed_flush_lsn::text AS "confirmedLsn",
            s.wal_status AS "walStatus"
       FROM pg_replication_slots s WHERE s.slot_name = $1`,
    [slot],
  );
}

export function createSlot(slot: string) {
  return sql(
    'outbox.create-slot',
    `SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`,
    [slot],
  );
}

/** Only an inactive slot can be dropped (a lost one, before it is created again). */
export function deleteSlot(slot: string) {
  return sql('outbox.delete-slot', `SELECT pg_drop_replication_slot($1)`, [slot]);
}

/** One CDC relay per slot: a session advisory lock held by the owner for as long as it streams. */
export function tryOwnSlot(slot: string) {
  return sql('outbox.try-own-slot', `SELECT pg_try_advisory_lock(hashtext('outbox.cdc:' || $1)) AS ok`, [
    slot,
  ]);
}

/**
 * The heartbeat: a non-transactional logical message (no table, no row) the relay reads back from its
 * own stream and confirms, so an idle slot's confirmed position follows the WAL instead of pinning it.
 */
export function recordHeartbeat(prefix: string) {
  return sql('outbox.record-heartbeat', `SELECT pg_logical_emit_message(false, $1, '')::text AS lsn`, [
    prefix,
  ]);
}

/** How far the slot is behind the WAL: unconfirmed bytes, and bytes of WAL it keeps from being recycled. */
export function selectSlotLag(slot: string) {
  return sql(
    'outbox.select-slot-lag',
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::float8 AS "lagBytes",
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::float8 AS "retainedBytes"
       FROM pg_replication_slots s WHERE s.slot_name = $1`,
    [slot],
  );
}

/**
 * Every logical slot of this database with the WAL it keeps from being recycled, for the metrics
 * exporter: a CDC relay that is down exports nothing, yet its slot still pins WAL until the disk fills.
 */
export function selectDatabaseSlots() {
  return sql(
    'outbox.select-database-slots',
    `SELECT s.slot_name AS slot, s.active,
            coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn), 0)::float8 AS "retainedBytes"
       FROM pg_replication_slots s
      WHERE s.database = current_database() AND s.slot_type = 'logical'`,
    [],
  );
}

/**
 * PUBLISHED after Kafka acknowledged them, in bulk and off the hot path (the CDC relay's marker runs
 * while the next batch is sent). No fence: CDC holds no lease; a row already PUBLISHED (by a replay,
 * or by the polling fallback) is left as it is. Like markPublished, it unblocks its aggregates' rows.
 */
export function markPublishedBulk(ids: number[]) {
  return sql(
    'outbox.mark-published-bulk',
    `WITH done AS (
       UPDATE outbox_event o
          SET status = 'PUBLISHED', published_at = now(), ${UNLEASE}, blocked = false
         FROM unnest($1::bigint[]) AS d(id)
        WHERE o.id = d.id AND ${pending('o')}
       RETURNING o.aggregate_type, o.aggregate_id
     ), unblocked AS (
       UPDATE outbox_event o SET blocked = false
         FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM done) d
        WHERE o.aggregate_type = d.aggregate_type AND o.aggregate_id = d.aggregate_id AND ${blocked('o')}
     )
     SELECT 1 FROM done`,
    [ids],
  );
}

/** Of these aggregates, the ones that still have an unpublished row (the CDC relay keeps holding them). */
export function selectUnpublishedAggregates(aggregates: Array<{ type: string; id: string }>) {
  return sql(
    'outbox.select-unpublished-aggregates',
    `SELECT a.type, a.id FROM unnest($1::text[], $2::text[]) AS a(type, id)
      WHERE EXISTS (SELECT 1 FROM outbox_event o
                     WHERE o.aggregate_type = a.type AND o.aggregate_id = a.id AND ${unpublished('o')})`,
    [aggregates.map((a) => a.type), aggregates.map((a) => a.id)],
  );
}
