import type { Env } from './env.js';
import { parseDuration } from '../duration.js';
import { ConfigError } from '../errors.js';

/** The validated, typed configuration every command and job receives. */
export interface AppConfig {
  readonly env: Env;
  readonly database: { url: string; poolMax: number };
  readonly redis: { url: string; keyPrefix: string };
  readonly kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    partitions: number;
    replicationFactor: number;
    /**
     * KAFKA_MIN_INSYNC_REPLICAS: min.insync.replicas of the topics `kafka topics` creates, the replicas
     * that must have an acks=all write before it is acknowledged.
     */
    minInsyncReplicas: number;
    /** KAFKA_TOPIC_PREFIX: part of every topic name this deployment uses, flags' names included. */
    topicPrefix: string;
    topics: { catalog: string; order: string };
  };
  readonly logLevel: Env['LOG_LEVEL'];
  /** SHUTDOWN_TIMEOUT: after the first SIGTERM/SIGINT a command exits by then, finished or not. */
  readonly shutdownTimeoutMs: number;
  readonly api: {
    host: string;
    port: number;
    adminToken: string;
    cacheTtlSeconds: number;
    /** The in-process cache in front of Redis for product details (0: off). */
    localCacheMs: number;
  };
  readonly metricsPort: number | undefined;
  readonly timezone: string;
  readonly ranking: { view: number; like: number; order: number };
  readonly eventHandledRetentionMs: number;
  /** ORDER_PAYMENT_TTL: an order not paid by created_at + this is expired (`orders expire`). */
  readonly orders: { paymentTtlMs: number };
  /**
   * POINTS_RATE as basis points (1/10,000): a paid order earns floor(amount * rateBasisPoints / 10,000)
   * points (domain/points/rule.ts), the same integer in the collector, verify, rebuild and the demo.
   */
  readonly points: { rateBasisPoints: number };
  /**
   * WEBHOOK_URL / WEBHOOK_SECRET (+ WEBHOOK_SECRET_PREVIOUS while rotating): unset unless the webhook
   * handler runs (it checks them).
   */
  readonly webhook: { url: string | undefined; secret: string | undefined; previousSecret?: string };
  /**
   * The payment gateway; callbackUrl unset means "the API's own callback route" (paymentCallbackUrl).
   * breakerHalfOpenMs: how long an open circuit breaker waits before letting one test call through.
   */
  readonly gateway: {
    url: string;
    secret: string;
    timeoutMs: number;
    breakerHalfOpenMs: number;
    callbackUrl: string | undefined;
  };
}

/** The event topics by their unprefixed names (as flags spell them). */
export const EVENT_TOPICS = { catalog: 'catalog-events', order: 'order-events' } as const;

export function toConfig(env: Env): AppConfig {
  const prefix = env.KAFKA_TOPIC_PREFIX;
  const retention = durationVar('EVENT_HANDLED_RETENTION', env.EVENT_HANDLED_RETENTION);
  return {
    env,
    database: { url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX },
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX },
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      clientId: env.KAFKA_CLIENT_ID,
      groupId: env.KAFKA_GROUP_ID,
      partitions: env.KAFKA_PARTITIONS,
      replicationFactor: env.KAFKA_REPLICATION_FACTOR,
      minInsyncReplicas: minInsyncReplicas(env),
      topicPrefix: prefix,
      topics: { catalog: `${prefix}${EVENT_TOPICS.catalog}`, order: `${prefix}${EVENT_TOPICS.order}` },
    },
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: durationVar('SHUTDOWN_TIMEOUT', env.SHUTDOWN_TIMEOUT),
    api: {
      host: env.API_HOST,
      port: env.API_PORT,
      adminToken: env.ADMIN_TOKEN,
      cacheTtlSeconds: env.CACHE_TTL_SECONDS,
      localCacheMs: env.API_LOCAL_CACHE_MS,
    },
    metricsPort: env.METRICS_PORT,
    timezone: env.TIMEZONE,
    ranking: {
      view: env.RANKING_WEIGHT_VIEW,
      like: env.RANKING_WEIGHT_LIKE,
      order: env.RANKING_WEIGHT_ORDER,
    },
    eventHandledRetentionMs: retention,
    orders: { paymentTtlMs: paymentTtl(env.ORDER_PAYMENT_TTL) },
    points: { rateBasisPoints: basisPoints(env.POINTS_RATE) },
    webhook: {
      url: env.WEBHOOK_URL,
      secret: env.WEBHOOK_SECRET,
      ...(env.WEBHOOK_SECRET_PREVIOUS ? { previousSecret: env.WEBHOOK_SECRET_PREVIOUS } : {}),
    },
    gateway: {
      url: env.GATEWAY_URL.replace(/\/+$/, ''),
      secret: env.GATEWAY_SECRET,
      timeoutMs: durationVar('GATEWAY_TIMEOUT', env.GATEWAY_TIMEOUT),
      breakerHalfOpenMs: durationVar('GATEWAY_BREAKER_HALF_OPEN', env.GATEWAY_BREAKER_HALF_OPEN),
      callbackUrl: env.PAYMENT_CALLBACK_URL,
    },
  };
}

/**
 * Replication factor minus one (at least 1): an acknowledged write survives the loss of any one replica
 * and a topic still takes writes with one replica down. More than the replication factor and no
 * acks=all write could ever succeed.
 */
export function defaultMinInsyncReplicas(replicationFactor: number): number {
  return Math.max(1, replicationFactor - 1);
}

function minInsyncReplicas(env: Env): number {
  const value = env.KAFKA_MIN_INSYNC_REPLICAS;
  if (value === undefined) return defaultMinInsyncReplicas(env.KAFKA_REPLICATION_FACTOR);
  if (value > env.KAFKA_REPLICATION_FACTOR)
    throw new ConfigError(
      `invalid KAFKA_MIN_INSYNC_REPLICAS=${value}: expected at most KAFKA_REPLICATION_FACTOR (${env.KAFKA_REPLICATION_FACTOR})`,
    );
  return value;
}

/** At least one second: a shorter window could expire an order before its owner can pay it. */
function paymentTtl(value: string): number {
  const ms = durationVar('ORDER_PAYMENT_TTL', value);
  if (ms < 1_000) throw new ConfigError(`invalid ORDER_PAYMENT_TTL=${value}: expected at least 1s`);
  return ms;
}

/** '0.01' -> 100: the env schema allows at most 4 decimals, so this is exact (no float rounding). */
function basisPoints(rate: string): number {
  const [whole = '0', fraction = ''] = rate.split('.');
  return Number(whole) * 10_000 + Number(fraction.padEnd(4, '0'));
}

function durationVar(name: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new ConfigError(`invalid ${name}: ${(err as Error).message}`);
  }
}

/**
 * The real name of a topic an operator names in a flag (`order-events`, `order-events.dlq`): flags take
 * names as the environment's own topics are spelt, before KAFKA_TOPIC_PREFIX, so one command line means
 * the same topic in every deployment and never reaches another deployment's topic on a shared broker.
 */
export function prefixedTopic(kafka: AppConfig['kafka'], name: string): string {
  return `${kafka.topicPrefix}${name}`;
}
