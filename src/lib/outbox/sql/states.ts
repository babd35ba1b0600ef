/**
 * An outbox row's states, named once (docs/outbox.md draws them). `status` alone does not say what a
 * row is waiting for: a PENDING row is also `blocked` or not, leased (`locked_until`) or not, and due
 * (`next_attempt_at`) or backing off. Each fragment below is that predicate over one row, read under
 * the alias the statement gives the table ('' for none); every statement that asks uses the fragment,
 * and only the statements that SET those columns spell them (test/unit/outbox-states.test.ts).
 */

/** outbox_event.status (migration 003's CHECK): the values the statements write and compare. */
export const OutboxStatus = { PENDING: 'PENDING', PUBLISHED: 'PUBLISHED', FAILED: 'FAILED' } as const;
export type OutboxStatus = (typeof OutboxStatus)[keyof typeof OutboxStatus];

/** A column of the row read under `alias`. */
const col = (alias: string, column: string) => (alias ? `${alias}.${column}` : column);

/** PENDING: work not done (its other states below say what it waits for). */
export const pending = (a = '') => `${col(a, 'status')} = '${OutboxStatus.PENDING}'`;

/** PUBLISHED: acknowledged by Kafka; only cleanup touches it again. */
export const published = (a = '') => `${col(a, 'status')} = '${OutboxStatus.PUBLISHED}'`;

/** FAILED: its attempts are used up; it holds its aggregate until `outbox retry`. */
export const failed = (a = '') => `${col(a, 'status')} = '${OutboxStatus.FAILED}'`;

/** PENDING or FAILED: the rows outbox_event_unpublished_aggregate_idx holds. */
export const unpublished = (a = '') => `${col(a, 'status')} <> '${OutboxStatus.PUBLISHED}'`;

/**
 * Flagged by a claim (migration 008): behind a FAILED, blocked or backing-off row of its aggregate, and
 * out of the claim's walk until publishing, `outbox retry` or the idle sweep clears it.
 */
export const blocked = (a = '') => col(a, 'blocked');
export const notBlocked = (a = '') => `NOT ${col(a, 'blocked')}`;

/** Its next attempt is due (a new row is due at once). */
export const due = (a = '') => `${col(a, 'next_attempt_at')} <= now()`;

/** Waiting out the retry backoff of a failed attempt. */
export const backingOff = (a = '') => `${col(a, 'next_attempt_at')} > now()`;

/** A relay's lease on it has not ended. */
export const leased = (a = '') => `${col(a, 'locked_until')} >= now()`;

/** No live lease: never leased, given back, or the lease ended (anyone may take it over). */
export const unleased = (a = '') =>
  `(${col(a, 'locked_until')} IS NULL OR ${col(a, 'locked_until')} < now())`;

/** now() plus `ms` (a parameter, milliseconds): where a lease set now ends. */
export const msFromNow = (ms: string) => `now() + make_interval(secs => ${ms}::double precision / 1000)`;

/** Its lease has at least `ms` (a parameter such as '$4', milliseconds) left. */
export const leasedFor = (ms: string, a = '') => `${col(a, 'locked_until')} >= ${msFromNow(ms)}`;

/** Leased to the relay `relayId` (a parameter) and still PENDING: the fence of a lease's holder. */
export const leasedTo = (relayId: string, a = '') => `${col(a, 'locked_by')} = ${relayId} AND ${pending(a)}`;

/**
 * The fence of the marks: the lease's holder `relayId`, or none (a NULL parameter) for rows the caller
 * holds locked in its own transaction (lock mode), which nobody else can have touched.
 */
export const ownedBy = (relayId: string, a = '') =>
  `(${relayId}::text IS NULL OR ${col(a, 'locked_by')} = ${relayId}::text)`;

/** What a claim may take: PENDING, not blocked, due and not leased (outbox_event_claim_window_idx). */
export const claimable = (a = '') => `${pending(a)} AND ${notBlocked(a)}
          AND ${due(a)}
          AND ${unleased(a)}`;

/** Holds its aggregate's later rows until it moves: FAILED, or backing off. */
export const holding = (a = '') => `${failed(a)} OR ${backingOff(a)}`;

/** A predecessor its successors wait behind: holding them, or blocked itself. */
export const stuck = (a = '') => `${failed(a)} OR ${blocked(a)} OR ${backingOff(a)}`;

/** The SET that ends a lease (lease mode's give-back, marks, retry). */
export const UNLEASE = 'locked_by = NULL, locked_until = NULL';
