import { plainArray, sql, type Sql } from '../../lib/db/query.js';
import type { LedgerEntry, PointsReason } from './rule.js';

/**
 * The points read model's statements (migrations/016_points.sql): points_ledger (one entry per applied
 * OrderPaid / PaymentRefunded) and points_balances (the sum per user, written with the entries).
 */

/** The class of the transaction-scoped advisory locks that serialize the points writes of one order. */
const ORDER_LOCK_CLASS = 1_347_373_390; // 'PNTS'

/**
 * Waits for every other transaction writing points for these orders (the collector, any group) and
 * holds them off until this one commits, locks taken in order-id order (no deadlock between two
 * writers). The next statement's snapshot then sees their entries: an order's earn and refund are
 * never computed from a ledger missing the other one.
 */
export function lockOrderPoints(orderIds: number[]): Sql {
  return sql(
    'points.lock-order-points',
    `SELECT count(pg_advisory_xact_lock($1::int, (k % 2147483647)::int))::int AS n
       FROM (SELECT DISTINCT k FROM unnest($2::bigint[]) AS k ORDER BY k) AS s`,
    [ORDER_LOCK_CLASS, plainArray([...orderIds].sort((a, b) => a - b))],
  );
}

/**
 * What the ledger holds for these orders. FOR SHARE takes the table lock `rebuild --target points`
 * holds EXCLUSIVE, so this statement waits for a rebuild in progress and reads what it committed.
 */
export function selectOrderPoints(orderIds: number[]): Sql {
  return sql(
    'points.select-order-points',
    `SELECT order_id::text AS order_id, reason, delta::text AS delta
       FROM points_ledger WHERE order_id = ANY ($1::bigint[]) FOR SHARE`,
    [plainArray(orderIds)],
  );
}

export interface OrderPointsRow {
  order_id: string;
  reason: PointsReason;
  delta: string;
}

/**
 * The entries, and each user's balance by the entries actually inserted, in one statement: an entry
 * whose event (or whose order's earn or refund) is already in the ledger is not inserted again and
 * not counted (the ledger's own guarantee of once per event, under the inbox mark). Balances are
 * written in user order (no deadlock between two writers).
 */
export function insertLedgerEntries(entries: LedgerEntry[]): Sql {
  return sql(
    'points.insert-ledger-entries',
    `WITH e AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
            AS e(event_id, user_id, order_id, delta, reason)
     ), inserted AS (
       INSERT INTO points_ledger (event_id, user_id, order_id, delta, reason)
       SELECT event_id, user_id, order_id, delta, reason FROM e ORDER BY order_id, reason
       ON CONFLICT DO NOTHING
       RETURNING user_id, delta
     ), balances AS (
       INSERT INTO points_balances AS b (user_id, balance)
       SELECT user_id, sum(delta) FROM inserted GROUP BY user_id ORDER BY user_id
       ON CONFLICT (user_id) DO UPDATE SET balance = b.balance + excluded.balance, updated_at = now()
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM inserted)::int AS entries, (SELECT count(*) FROM balances)::int AS users`,
    [
      plainArray(entries.map((e) => e.eventId)),
      // User ids are free ASCII (commas, quotes, braces): a real array parameter, quoted by the driver.
      entries.map((e) => e.userId),
      plainArray(entries.map((e) => e.orderId)),
      plainArray(entries.map((e) => e.delta)),
      plainArray(entries.map((e) => e.reason)),
    ],
  );
}

export function selectBalance(userId: string): Sql {
  return sql(
    'points.select-balance',
    `SELECT balance::text AS balance, updated_at FROM points_balances WHERE user_id = $1`,
    [userId],
  );
}

/** A user's last `limit` entries, newest first. */
export function selectLastEntries(userId: string, limit: number): Sql {
  return sql(
    'points.select-last-entries',
    `SELECT order_id::text AS order_id, event_id::text AS event_id, delta::text AS delta, reason, created_at
       FROM points_ledger WHERE user_id = $1 ORDER BY id DESC LIMIT $2`,
    [userId, limit],
  );
}

/** An order's earn: rate in basis points, integer division (floor: amounts are never negative). */
const EARN = (amount: string, rate: string) => `(${amount} * ${rate}::bigint / 10000)`;

/**
 * Per user, the balance and the ledger's sum beside what the source of truth says: the orders that
 * are PAID, each earning by the rule on its SUCCEEDED payment (a refunded payment, or a charge
 * refunded on an order that never was PAID, earns nothing). Users with something in flight are left
 * out and counted: an OrderPaid / PaymentRefunded event the points handler has not applied yet
 * (unpublished, uncollected: neither its ledger entry nor its 'points' mark; an entry lost after its
 * mark is a difference), or a refund under way (REFUND_REQUESTED: its PaymentRefunded is to come).
 * Ordered by user, for a cursor.
 */
export function selectPointsChecks(rateBasisPoints: number): Sql {
  return sql(
    'points.select-points-checks',
    `WITH expected AS (
       SELECT o.user_id, sum(${EARN('p.amount', '$1')}) AS points
         FROM orders o JOIN payments p ON p.order_id = o.id AND p.status = 'SUCCEEDED'
        WHERE o.status = 'PAID' GROUP BY o.user_id
     ), ledger AS (
       SELECT user_id, sum(delta) AS points FROM points_ledger GROUP BY user_id
     ), in_flight AS (
       -- Not applied yet: no entry, and no mark (an event marked without its entry is a difference).
       SELECT o.payload->'payload'->>'userId' AS user_id FROM outbox_event o
        WHERE o.event_type IN ('OrderPaid', 'PaymentRefunded')
          AND NOT EXISTS (SELECT 1 FROM points_ledger l WHERE l.event_id = o.event_id)
          AND NOT EXISTS (SELECT 1 FROM event_inbox i WHERE i.event_id = o.event_id AND 'points' = ANY (i.handlers))
       UNION
       SELECT o.user_id FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.status = 'REFUND_REQUESTED'
     ), users AS (
       SELECT user_id FROM expected UNION SELECT user_id FROM ledger UNION SELECT user_id FROM points_balances
     )
     SELECT u.user_id, u.user_id IN (SELECT user_id FROM in_flight) AS in_flight,
            coalesce(e.points, 0)::text AS expected, b.balance::text AS balance,
            coalesce(l.points, 0)::text AS ledger
       FROM users u
       LEFT JOIN expected e USING (user_id)
       LEFT JOIN ledger l USING (user_id)
       LEFT JOIN points_balances b USING (user_id)
      ORDER BY u.user_id`,
    [rateBasisPoints],
  );
}

export interface PointsCheckRow {
  user_id: string;
  in_flight: boolean;
  expected: string;
  /** null: no balance row (a user without entries). */
  balance: string | null;
  ledger: string;
}

// --- rebuild: the ledger recomputed from event_log, swapped in under a lock the collector waits for.

/** Holds off the points handler's writes (its reads of the ledger, FOR SHARE, wait too) until commit. */
export function lockPointsTables(): Sql {
  return sql('points.lock-points-tables', `LOCK TABLE points_ledger, points_balances IN EXCLUSIVE MODE`);
}

/** Events the points handler applied that event_log lacks (an audit handler behind, in another group). */
export function countUnauditedPoints(): Sql {
  return sql(
    'points.count-unaudited-points',
    `SELECT count(*)::bigint AS n FROM event_inbox h
      WHERE 'points' = ANY (h.handlers) AND NOT ('audit' = ANY (h.handlers))`,
  );
}

export function createRebuiltLedger(): Sql {
  return sql(
    'points.create-rebuilt-ledger',
    `CREATE TEMP TABLE rebuilt_points_ledger (LIKE points_ledger INCLUDING DEFAULTS) ON COMMIT DROP`,
  );
}

/**
 * The ledger by the rule from every audited OrderPaid / PaymentRefunded (the first of each per order,
 * by version): an earn per paid order, a refund taking back what its order earned (0 if it never
 * earned). Audited events the handler has not reached yet are included: their entries are then in
 * the ledger, and the handler's later delivery inserts nothing (the event is there). An entry that
 * existed keeps its created_at; a new one gets its event's time.
 */
export function insertRebuiltLedger(rateBasisPoints: number): Sql {
  return sql(
    'points.insert-rebuilt-ledger',
    `INSERT INTO rebuilt_points_ledger (id, user_id, order_id, event_id, delta, reason, created_at)
     WITH ev AS (
       SELECT event_id, event_type, version, occurred_at, (envelope::jsonb)->'payload' AS p
         FROM event_inbox
        WHERE 'audit' = ANY (handlers) AND event_type IN ('OrderPaid', 'PaymentRefunded')
     ), paid AS (
       SELECT DISTINCT ON (order_id) event_id, user_id, order_id, points, occurred_at
         FROM (SELECT event_id, version, occurred_at, p->>'userId' AS user_id, (p->>'orderId')::bigint AS order_id,
                      ${EARN("(p->>'amount')::bigint", '$1')} AS points
                 FROM ev WHERE event_type = 'OrderPaid') x
        ORDER BY order_id, version
     ), refunded AS (
       SELECT DISTINCT ON (order_id) event_id, p->>'userId' AS user_id, (p->>'orderId')::bigint AS order_id,
              occurred_at
         FROM ev WHERE event_type = 'PaymentRefunded' ORDER BY order_id, version
     ), entries AS (
       SELECT event_id, user_id, order_id, points AS delta, 'order-paid' AS reason, occurred_at FROM paid
       UNION ALL
       SELECT r.event_id, r.user_id, r.order_id, -coalesce(p.points, 0), 'payment-refunded', r.occurred_at
         FROM refunded r LEFT JOIN paid p USING (order_id)
     )
     SELECT coalesce(l.id, nextval(pg_get_serial_sequence('points_ledger', 'id'))), e.user_id, e.order_id,
            e.event_id, e.delta, e.reason, coalesce(l.created_at, e.occurred_at)
       FROM entries e LEFT JOIN points_ledger l USING (event_id)`,
    [rateBasisPoints],
  );
}

const ENTRY = '(user_id, order_id, delta, reason)';

/** Entries added, removed or changed, plus balances that differ from the rebuilt entries' sums. */
export function countChangedPoints(): Sql {
  return sql(
    'points.count-changed-points',
    `WITH sums AS (SELECT user_id, sum(delta) AS balance FROM rebuilt_points_ledger GROUP BY user_id)
     SELECT (SELECT count(*) FROM rebuilt_points_ledger r FULL JOIN points_ledger l USING (event_id)
              WHERE r.event_id IS NULL OR l.event_id IS NULL
                 OR (r.user_id, r.order_id, r.delta, r.reason) IS DISTINCT FROM (l.user_id, l.order_id, l.delta, l.reason))
          + (SELECT count(*) FROM sums s FULL JOIN points_balances b USING (user_id)
              WHERE coalesce(s.balance, 0) <> coalesce(b.balance, 0))
            AS n`,
  );
}

/** The swap: entries that are not in the rebuilt ledger, or differ, go; the missing ones come in. */
export function deleteStaleEntries(): Sql {
  return sql(
    'points.delete-stale-entries',
    `DELETE FROM points_ledger l WHERE NOT EXISTS (
       SELECT 1 FROM rebuilt_points_ledger r
        WHERE r.event_id = l.event_id AND ${prefix('r')} = ${prefix('l')})`,
  );
}

export function insertMissingEntries(): Sql {
  return sql(
    'points.insert-missing-entries',
    `INSERT INTO points_ledger (id, user_id, order_id, event_id, delta, reason, created_at)
     OVERRIDING SYSTEM VALUE
     SELECT id, user_id, order_id, event_id, delta, reason, created_at FROM rebuilt_points_ledger r
      WHERE NOT EXISTS (SELECT 1 FROM points_ledger l WHERE l.event_id = r.event_id)
      ORDER BY id`,
  );
}

/** Balances as the sums of the (now rebuilt) ledger: changed ones written, stale ones removed. */
export function updateBalancesFromLedger(): Sql {
  return sql(
    'points.update-balances-from-ledger',
    `WITH sums AS (SELECT user_id, sum(delta) AS balance FROM points_ledger GROUP BY user_id),
     removed AS (
       DELETE FROM points_balances b WHERE NOT EXISTS (SELECT 1 FROM sums s WHERE s.user_id = b.user_id)
       RETURNING 1
     ), written AS (
       INSERT INTO points_balances AS b (user_id, balance)
       SELECT user_id, balance FROM sums ORDER BY user_id
       ON CONFLICT (user_id) DO UPDATE SET balance = excluded.balance, updated_at = now()
       WHERE b.balance IS DISTINCT FROM excluded.balance
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM removed)::int AS removed, (SELECT count(*) FROM written)::int AS written`,
  );
}

function prefix(alias: string): string {
  return `(${ENTRY.slice(1, -1)
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ')})`;
}
