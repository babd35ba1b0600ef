import { UsageError } from '../../lib/errors.js';
import type { Rejection } from './process-chunk.js';
import type { LoggedEvent } from './sql.js';

/**
 * The collector's work as named handlers. Each owns one effect and its idempotency, keyed by
 * (event id, handler) and never by the Kafka group, so any number of groups may run any overlapping
 * sets of handlers over the same events and each effect still happens once per event. Every handler
 * but cache marks itself in the event's one inbox row (event_inbox.handlers, migrations/014):
 * - audit:   the audit columns of the event's inbox row (event_log, the view of audited rows).
 * - metrics: product_metrics + product_metrics_daily; 'metrics' in the inbox row, same transaction.
 * - ranking: the Redis live ranking; 'ranking' in the inbox row (and its ranked_at) decides which duplicates
 *            may still be ranked, and the Lua mark `ranking:applied:<event>:<product>` makes each
 *            increment happen once (the key has never named a group).
 * - cache:   Redis evictions of cached reads. No mark: deleting a key twice leaves the same state,
 *            and evicting again after a redelivery only costs a cache miss.
 * - webhook: a signed POST per selected event; 'webhook' added to the inbox row once the receiver said 2xx.
 * - points:  loyalty points (points_ledger + points_balances) for OrderPaid / PaymentRefunded; 'points'
 *            in the inbox row, same transaction; the ledger's unique event id backs it up.
 */
export const HANDLERS = ['audit', 'metrics', 'ranking', 'cache', 'webhook', 'points'] as const;
export type HandlerName = (typeof HANDLERS)[number];

/**
 * Whether a handler's effect commutes: applying two chunks of one partition side by side, or in either
 * order, leaves the same result. The batch handler overlaps chunks of a partition only for the steps of
 * handlers that commute; the others run chunk after chunk, in offset order (ordered-steps.ts).
 * - audit:   one row per event, whatever the order.
 * - metrics: counters add up; versioned state (likes, stock) keeps the highest version.
 * - ranking: increments add up.
 * - cache:   an eviction is the same whenever it happens.
 * - webhook: no. A receiver sees each request as it comes: docs/collector.md promises order per aggregate.
 * - points:  yes. An order's earn and refund add up to 0 whichever is applied first (domain/points/
 *            rule.ts), and the transactions writing one order's points are serialized (an advisory
 *            lock per order), so each sees the other's entry.
 * A new handler must say here whether it commutes (the type requires every handler).
 */
export const COMMUTES: Readonly<Record<HandlerName, boolean>> = {
  audit: true,
  metrics: true,
  ranking: true,
  cache: true,
  webhook: false,
  points: true,
};

/** `webhook` needs a receiver (WEBHOOK_URL), so it only runs when asked for. */
export const DEFAULT_HANDLERS: readonly HandlerName[] = ['audit', 'metrics', 'ranking', 'cache', 'points'];

export type HandlerSet = ReadonlySet<HandlerName>;

/**
 * The webhook handler's step for a chunk (see webhook-handler.ts): delivers what it has not delivered
 * yet, marks what was delivered, returns the events the receiver refused. `heartbeat` keeps the
 * consumer in its group while a receiver that is down is retried.
 */
export type WebhookStep = (
  events: LoggedEvent[],
  heartbeat: () => Promise<void>,
  signal: AbortSignal,
) => Promise<Rejection[]>;

export function isHandlerName(name: string): name is HandlerName {
  return (HANDLERS as readonly string[]).includes(name);
}

/** `--handlers audit,metrics`: known names only (else exit 2 naming the flag), at least one. */
export function parseHandlers(input: string): HandlerName[] {
  const names = input
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`--handlers: give at least one of ${HANDLERS.join(', ')}`);
  const unknown = names.find((n) => !isHandlerName(n));
  if (unknown !== undefined)
    throw new UsageError(`--handlers: "${unknown}" is not a handler (${HANDLERS.join(', ')})`);
  return [...new Set(names as HandlerName[])];
}
