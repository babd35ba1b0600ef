/** What `trace` returns (`--json` prints it as is): one aggregate's events, hop by hop. */

export type TraceKind = 'order' | 'product' | 'event';

export interface SourceStatus {
  /** PostgreSQL or Kafka. */
  name: string;
  reachable: boolean;
  /** Why not, when not reachable (or when part of it did not answer). */
  error?: string;
  durationMs: number;
}

export interface HandlerApplied {
  handler: string;
  /** When it applied the event; null when that time is not recorded (docs/operations.md, "Where is my event?"). */
  at: string | null;
  /** The group whose collector applied it, when recorded (the audit handler's). */
  group?: string;
}

export interface GroupState {
  groupId: string;
  /** Whether the group's committed offset on the event's partition is past the event. */
  consumed: boolean;
  partition: number;
  committed: string | null;
  /** Messages of the partition the group has not consumed (lag), and how old its oldest is. */
  lag: number;
  lagSeconds: number | null;
  /** Messages before this event the group still has to consume. */
  ahead: number | null;
}

export interface TracedDeadLetter {
  topic: string;
  offset: string;
  consumerGroup: string | null;
  error: string | null;
  errorKind: string | null;
  attempts: number | null;
  failedAt: string | null;
  /** Whether `dlq replay` (its default group) has replayed it; null when its progress could not be read. */
  replayed: boolean | null;
  replayCount: number;
}

export interface Hop {
  from: string;
  to: string;
  ms: number;
}

export interface TracedEvent {
  eventId: string;
  eventType: string;
  version: number;
  occurredAt: string | null;
  outbox: {
    status: string;
    attempts: number;
    lastError: string | null;
    blocked: boolean;
    lockedBy: string | null;
    writtenAt: string;
    publishedAt: string | null;
  } | null;
  /** Where it is on Kafka: from the audit row, else found on the broker; null when not known. */
  kafka: {
    topic: string;
    partition: number;
    offset: string | null;
    /** The message's Kafka timestamp (CreateTime: when the relay sent it), when read from the broker. */
    timestamp: string | null;
    source: 'audit' | 'broker' | 'key';
  } | null;
  /** When a collector first applied it (the first handler). */
  consumedAt: string | null;
  handlers: HandlerApplied[];
  /** Handlers that applied other events of this trace but not this one. */
  handlersMissing: string[];
  groups: GroupState[];
  deadLetters: TracedDeadLetter[];
  /** The time between hops: written -> published -> consumed -> each handler. */
  hops: Hop[];
  /** What is missing, in plain words. */
  missing: string[];
}

export interface PaymentTransition {
  status: string;
  /** Null when the time of this state is not recorded. */
  at: string | null;
}

export interface TracedPayment {
  id: number;
  amount: number;
  status: string;
  paymentKey: string;
  transactionKey: string | null;
  failureReason: string | null;
  lastError: string | null;
  gatewayAttempts: number;
  transitions: PaymentTransition[];
  refund: { requested: boolean; refundedAt: string | null } | null;
}

export interface TraceReport {
  target: { kind: TraceKind; id: string };
  aggregate: { type: 'order' | 'product'; id: string; summary: string | null };
  /** Oldest first. */
  events: TracedEvent[];
  /** How many events the aggregate has in the outbox (events shows the latest `--limit`). */
  totalEvents: number;
  payments: TracedPayment[] | null;
  /** The consumer groups compared (discovered on the broker, or --group); null when Kafka was not read. */
  groups: string[] | null;
  sources: SourceStatus[];
  /** Whole-trace notes: a source not reachable, events not shown. */
  notes: string[];
  /** Whether every source answered. */
  complete: boolean;
}
