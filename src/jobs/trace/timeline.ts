import type { GroupLag } from '../../lib/kafka/consumer-lag.js';
import type { PaymentRow } from '../../domain/payments/sql.js';
import type { DatabasePart } from './database.js';
import type { KafkaPart } from './kafka.js';
import type { InboxRow, OutboxRow } from './sql.js';
import type { GroupState, HandlerApplied, Hop, TracedEvent, TracedPayment } from './types.js';

/** The handlers whose absence says nothing: cache leaves no mark; webhook delivers only the types it selects. */
const UNMARKED = new Set(['cache', 'webhook']);

/** Builds each event's timeline from what PostgreSQL and (when it answered) Kafka hold. Pure. */
export function buildEvents(db: DatabasePart, kafka: KafkaPart | null): TracedEvent[] {
  const events = [
    ...db.outbox.map((o) => fromOutbox(o, db.inbox.get(o.event_id))),
    ...db.inboxOnly.map(fromInboxOnly),
  ];
  const expected = new Set(
    events.flatMap((e) => e.handlers.map((h) => h.handler)).filter((h) => !UNMARKED.has(h)),
  );
  for (const e of events) {
    const applied = new Set(e.handlers.map((h) => h.handler));
    e.handlersMissing = [...expected].filter((h) => !applied.has(h));
    if (kafka) {
      e.kafka = kafka.positions.get(e.eventId) ?? e.kafka;
      e.groups = kafka.groups ? groupStates(e, kafka.groups) : [];
      e.deadLetters = kafka.deadLetters.get(e.eventId) ?? [];
    }
    e.hops = hops(e);
    e.missing = missing(e, kafka);
  }
  return events;
}

function fromOutbox(o: OutboxRow, inbox: InboxRow | undefined): TracedEvent {
  return {
    eventId: o.event_id,
    eventType: o.event_type,
    version: Number(o.aggregate_version),
    occurredAt: o.occurred_at,
    outbox: {
      status: o.status,
      attempts: o.attempt_count,
      lastError: o.last_error,
      blocked: o.blocked,
      lockedBy: o.locked_by,
      writtenAt: o.created_at.toISOString(),
      publishedAt: o.published_at?.toISOString() ?? null,
    },
    kafka: auditPosition(inbox),
    consumedAt: inbox?.handled_at.toISOString() ?? null,
    handlers: inbox ? handlerTimes(inbox) : [],
    handlersMissing: [],
    groups: [],
    deadLetters: [],
    hops: [],
    missing: [],
  };
}

function fromInboxOnly(i: InboxRow): TracedEvent {
  return {
    eventId: i.event_id,
    eventType: i.event_type ?? '?',
    version: Number(i.version ?? 0),
    occurredAt: i.occurred_at?.toISOString() ?? null,
    outbox: null,
    kafka: auditPosition(i),
    consumedAt: i.handled_at.toISOString(),
    handlers: handlerTimes(i),
    handlersMissing: [],
    groups: [],
    deadLetters: [],
    hops: [],
    missing: [],
  };
}

function auditPosition(i: InboxRow | undefined): TracedEvent['kafka'] {
  if (!i || i.topic === null || i.partition === null || i.offset === null) return null;
  return { topic: i.topic, partition: i.partition, offset: i.offset, timestamp: null, source: 'audit' };
}

/**
 * When each handler applied the event, from what the inbox row records (migrations/014): `handlers`
 * in the order of the writes that appended them; the first write at handled_at; the audit handler's
 * at received_at, the ranking handler's at ranked_at; `added` handlers by the last write. A handler
 * written together with one of known time shares it; any other's time is not recorded (null).
 */
export function handlerTimes(
  row: Pick<InboxRow, 'handlers' | 'added' | 'handled_at' | 'ranked_at' | 'received_at' | 'consumer'>,
): HandlerApplied[] {
  const { handlers } = row;
  const n = handlers.length;
  const at: Array<Date | null> = handlers.map(() => null);
  // One write (added NULL): all at handled_at. Otherwise the first write covers at least index 0,
  // the last write the last `added` ones.
  const lastStart = row.added === null ? 0 : n - row.added;
  for (let i = 0; i < n; i++) if (row.added === null || i === 0) at[i] = row.handled_at;
  const known: Array<[string, Date | null]> = [
    ['audit', row.received_at],
    ['ranking', row.ranked_at],
  ];
  for (const [name, time] of known) {
    const i = handlers.indexOf(name);
    if (i < 0 || !time) continue;
    at[i] = time;
    // In the first write (same time as handled_at): so is every handler before it.
    if (time.getTime() === row.handled_at.getTime()) for (let j = 0; j < i; j++) at[j] ??= time;
    // In the last write: so is the whole last write.
    if (row.added !== null && i >= lastStart) for (let j = lastStart; j < n; j++) at[j] ??= time;
  }
  // The first write, when its end is known (the last write starts right after it when there were two).
  return handlers.map((handler, i) => ({
    handler,
    at: at[i]?.toISOString() ?? null,
    ...(handler === 'audit' && row.consumer ? { group: row.consumer } : {}),
  }));
}

function groupStates(e: TracedEvent, groups: GroupLag[]): GroupState[] {
  const k = e.kafka;
  if (!k) return [];
  const out: GroupState[] = [];
  for (const g of groups) {
    const p = g.partitions.find((x) => x.topic === k.topic && x.partition === k.partition);
    if (!p) continue; // the group does not consume this topic
    const committed = p.committed;
    const consumed = k.offset !== null && committed !== null && BigInt(committed) > BigInt(k.offset);
    const ahead =
      k.offset === null ? null : Math.max(0, Number(BigInt(k.offset) - BigInt(committed ?? p.low)));
    out.push({
      groupId: g.groupId,
      consumed,
      partition: p.partition,
      committed,
      lag: p.lag,
      lagSeconds: p.lagSeconds,
      ahead: consumed ? 0 : ahead,
    });
  }
  return out;
}

function hops(e: TracedEvent): Hop[] {
  const out: Hop[] = [];
  const add = (from: string, a: string | null | undefined, to: string, b: string | null | undefined) => {
    if (a && b) out.push({ from, to, ms: Date.parse(b) - Date.parse(a) });
  };
  add('written', e.outbox?.writtenAt, 'published', e.outbox?.publishedAt);
  add('published', e.outbox?.publishedAt, 'consumed', e.consumedAt);
  for (const h of e.handlers) add('consumed', e.consumedAt, h.handler, h.at);
  return out;
}

/** What is missing, said plainly. */
function missing(e: TracedEvent, kafka: KafkaPart | null): string[] {
  const out: string[] = [];
  const o = e.outbox;
  if (!o) out.push('no outbox row (deleted by `outbox cleanup` after it was published)');
  else if (o.status === 'FAILED')
    out.push(
      `not published: the relay gave up after ${o.attempts} attempt(s): ${o.lastError ?? '?'} (commerce outbox retry)`,
    );
  else if (o.status === 'PENDING')
    out.push(
      `not published yet: PENDING${o.blocked ? ', blocked behind an earlier row of this aggregate' : ''}` +
        `${o.attempts > 0 ? `, ${o.attempts} attempt(s), last error: ${o.lastError ?? '?'}` : ''}` +
        `${o.lockedBy ? `, leased by ${o.lockedBy}` : ''}`,
    );
  if (e.handlers.length === 0 && o?.status === 'PUBLISHED') out.push('not applied by any handler yet');
  if (e.handlersMissing.length > 0) out.push(`not applied yet by ${e.handlersMissing.join(', ')}`);
  if (kafka && e.kafka && e.kafka.offset === null && o?.status === 'PUBLISHED')
    out.push(
      `not found on ${e.kafka.topic} partition ${e.kafka.partition} near its publish time (retention, or a search limit)`,
    );
  if (kafka && e.kafka?.source === 'audit' && e.kafka.timestamp === null)
    out.push(`no longer on ${e.kafka.topic} at offset ${e.kafka.offset} (retention)`);
  for (const g of e.groups) {
    if (g.consumed || e.kafka?.offset === null) continue;
    const behind = g.lagSeconds === null ? '?' : `${seconds(g.lagSeconds)} s`;
    out.push(
      `not yet consumed by group ${g.groupId}: partition ${g.partition} is ${g.lag.toLocaleString('en-US')} messages / ${behind} behind` +
        (g.committed === null ? ' (the group has never committed on it)' : '') +
        (g.ahead ? `, ${g.ahead.toLocaleString('en-US')} before this event` : ''),
    );
  }
  for (const d of e.deadLetters)
    out.push(
      `dead-lettered by ${d.consumerGroup ?? '?'}: ${d.error ?? '?'}` +
        (d.replayed ? ' (replayed)' : d.replayed === false ? ' (not replayed: commerce dlq replay)' : ''),
    );
  return out;
}

/** A payment's states with their times, from its row: the times a row keeps (created, settled, refunded). */
export function tracePayment(p: PaymentRow): TracedPayment {
  const transitions: TracedPayment['transitions'] = [{ status: 'REQUESTED', at: p.created_at.toISOString() }];
  if (p.transaction_key || p.status === 'PENDING')
    transitions.push({ status: 'PENDING', at: p.status === 'PENDING' ? p.updated_at.toISOString() : null });
  if (p.settled_at)
    transitions.push({
      status: p.status === 'FAILED' ? 'FAILED' : 'SUCCEEDED',
      at: p.settled_at.toISOString(),
    });
  const refunding = p.status === 'REFUND_REQUESTED' || p.status === 'REFUNDED';
  if (refunding)
    transitions.push({
      status: 'REFUND_REQUESTED',
      at: p.status === 'REFUND_REQUESTED' ? p.updated_at.toISOString() : null,
    });
  if (p.refunded_at) transitions.push({ status: 'REFUNDED', at: p.refunded_at.toISOString() });
  return {
    id: Number(p.id),
    amount: Number(p.amount),
    status: p.status,
    paymentKey: p.payment_key,
    transactionKey: p.transaction_key,
    failureReason: p.failure_reason,
    lastError: p.last_error,
    gatewayAttempts: p.gateway_attempts,
    transitions,
    refund: refunding ? { requested: true, refundedAt: p.refunded_at?.toISOString() ?? null } : null,
  };
}

/** 42 s, 4.2 s: whole seconds from 10 on. */
function seconds(s: number): string {
  return s >= 10 ? String(Math.round(s)) : String(Math.round(s * 10) / 10);
}
