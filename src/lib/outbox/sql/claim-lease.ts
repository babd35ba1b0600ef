import { sql } from '../../db/query.js';
import { CLAIMED_COLUMNS } from './claim.js';
import { leasedFor, leasedTo, msFromNow, UNLEASE } from './states.js';

/**
 * Lease mode: a claimed row carries `locked_by` (the relay) and `locked_until` (the lease's end) until
 * it is marked or given back; another relay may take it over only once the lease has ended.
 */

/** Lease mode's claim after selectClaimWindow, in its transaction: flags the stuck rows, leases the picked ones. */
export function markLeased(relayId: string, ids: number[], blockIds: number[], leaseMs: number) {
  return sql(
    'outbox.mark-leased',
    `WITH blocking AS (
       UPDATE outbox_event SET blocked = true WHERE id = ANY($3::bigint[])
     )
     UPDATE outbox_event o
        SET locked_by = $1, locked_until = ${msFromNow('$4')}
      WHERE o.id = ANY($2::bigint[])
     RETURNING ${CLAIMED_COLUMNS}`,
    [relayId, ids, blockIds, leaseMs],
  );
}

/**
 * Renews the lease of rows still ours, just before they are sent, so a batch that waited (claimed
 * ahead, behind a slow send) gets a full lease for its own send. Returns the ids whose lease covers
 * the send: a row whose lease another relay took over is not, and must not be sent by us.
 *
 * Only rows with less than `keepMs` of lease left are written. A batch claimed moments ago (the usual
 * case: claimed, then sent at once or after one send) still has its lease almost whole, so re-writing
 * it would only add a row version in every index of outbox_event per event (issue 15); for those rows
 * the check is a read. It is as safe as the write: another relay can take a row over only once its
 * lease has ended (the claim's `unleased`), and a send started now ends within the send budget, under keepMs.
 */
export function renewLease(relayId: string, ids: number[], leaseMs: number, keepMs: number) {
  return sql(
    'outbox.renew-lease',
    `WITH mine AS (
       SELECT id, ${leasedFor('$4')} AS whole
         FROM outbox_event
        WHERE id = ANY($2::bigint[]) AND ${leasedTo('$1')}
     ), renewed AS (
       UPDATE outbox_event
          SET locked_until = ${msFromNow('$3')}
        WHERE id = ANY (ARRAY(SELECT id FROM mine WHERE NOT whole)) AND ${leasedTo('$1')}
       RETURNING id
     )
     SELECT id FROM mine WHERE whole UNION ALL SELECT id FROM renewed`,
    [relayId, ids, leaseMs, keepMs],
  );
}

/** Gives rows back untouched (no attempt used): broker outage, shutdown, or held behind a failure. */
export function releaseEvents(relayId: string, ids: number[]) {
  return sql(
    'outbox.release-events',
    `UPDATE outbox_event SET ${UNLEASE}
      WHERE id = ANY($2::bigint[]) AND ${leasedTo('$1')}`,
    [relayId, ids],
  );
}

/**
 * Gives back every row one relay holds leased, at once (a forced stop: its batches go back due
 * instead of waiting out their lease). Reads the unpublished rows (outbox_event_unpublished_aggregate_idx,
 * no index on locked_by): O(backlog), once per forced stop.
 */
export function releaseLeases(relayId: string) {
  return sql('outbox.release-leases', `UPDATE outbox_event SET ${UNLEASE} WHERE ${leasedTo('$1')}`, [
    relayId,
  ]);
}
