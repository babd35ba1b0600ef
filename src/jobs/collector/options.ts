import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { AppConfig } from '../../lib/config/config.js';
import type { Logger } from '../../lib/log.js';
import { eventDecoder, type EventDecoder } from '../../lib/events/index.js';
import { DEFAULT_HANDLERS, type HandlerName, type HandlerSet, type WebhookStep } from './handlers.js';

/** The clients and settings a collector runs with; they are the caller's (it closes them). */
export interface CollectorDeps {
  config: AppConfig;
  pool: pg.Pool;
  redis: Redis;
  kafka: Kafka;
  logger: Logger;
  signal?: AbortSignal;
}

/** What a caller may set; anything left out comes from the config or COLLECTOR_DEFAULTS. */
export interface CollectorOptions {
  groupId?: string;
  /** The handlers this group runs (default DEFAULT_HANDLERS: all but webhook). */
  handlers?: readonly HandlerName[];
  /** Required with the `webhook` handler: delivers a chunk's events (createWebhookStep). */
  webhook?: WebhookStep;
  topics?: string[];
  maxAttempts?: number;
  batchSize?: number;
  sessionTimeoutMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  registry?: Registry;
  /**
   * How events are read (default: every version this build knows). Tests of a rolling deploy give an
   * older build's: eventDecoder(definitionsUpTo({ OrderCreated: 1 })).
   */
  decoder?: EventDecoder;
}

export const COLLECTOR_DEFAULTS = {
  /** Events per transaction. */
  batchSize: 500,
  /** Attempts before a failing event is dead-lettered. */
  maxAttempts: 3,
  sessionTimeoutMs: 30_000,
  /**
   * How long the coordinator waits for members to rejoin during a rebalance (kafkajs' default, set
   * here because the liveness bounds derive from it).
   */
  rebalanceTimeoutMs: 60_000,
  /** Retry delay of a failing chunk: doubles per attempt from baseMs up to maxMs. */
  backoff: { baseMs: 200, maxMs: 5_000 },
} as const;

export interface ResolvedCollectorOptions {
  groupId: string;
  handlers: HandlerSet;
  topics: string[];
  maxAttempts: number;
  batchSize: number;
  sessionTimeoutMs: number;
  /** kafkajs wants heartbeats well inside the session timeout. */
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** A batch none of whose steps finished for this long gets no more heartbeats (BatchGuard). */
  stallMs: number;
  backoff: { baseMs: number; maxMs: number };
  decoder: EventDecoder;
}

const DECODER = eventDecoder();

/** Every option filled in, once, so the rest of the collector reads no `??`. */
export function resolveCollectorOptions(
  config: AppConfig,
  options: CollectorOptions,
): ResolvedCollectorOptions {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? COLLECTOR_DEFAULTS.sessionTimeoutMs;
  const handlers = new Set(options.handlers ?? DEFAULT_HANDLERS);
  if (handlers.size === 0) throw new Error('a collector needs at least one handler');
  if (handlers.has('webhook') !== (options.webhook !== undefined))
    throw new Error('the webhook handler and its delivery step (options.webhook) go together');
  return {
    groupId: options.groupId ?? config.kafka.groupId,
    handlers,
    topics: options.topics ?? [config.kafka.topics.catalog, config.kafka.topics.order],
    maxAttempts: options.maxAttempts ?? COLLECTOR_DEFAULTS.maxAttempts,
    batchSize: options.batchSize ?? COLLECTOR_DEFAULTS.batchSize,
    sessionTimeoutMs,
    heartbeatIntervalMs: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
    rebalanceTimeoutMs: COLLECTOR_DEFAULTS.rebalanceTimeoutMs,
    // As long as a rebalance may take: a transaction waiting on a lock, or a receiver taking its
    // time, keeps its member; a step hung for longer lets its partitions go.
    stallMs: COLLECTOR_DEFAULTS.rebalanceTimeoutMs,
    backoff: options.backoff ?? COLLECTOR_DEFAULTS.backoff,
    decoder: options.decoder ?? DECODER,
  };
}
