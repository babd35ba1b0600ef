import type { Admin } from 'kafkajs';
import type { AppConfig } from '../../lib/config/config.js';
import { createPool } from '../../lib/db/pool.js';
import { createKafka } from '../../lib/kafka/client.js';
import type { PartitionFetcher } from '../../lib/kafka/partition-fetch.js';
import type { Logger } from '../../lib/log.js';
import { withinTimeout, type CheckResult, type CheckStatus } from './check.js';
import { jobChecks } from './jobs.js';
import { kafkaChecks } from './kafka.js';
import { outboxChecks } from './outbox.js';
import { paymentsChecks } from './payments.js';
import { postgresChecks } from './postgres.js';
import { redisChecks } from './redis.js';

export const DEFAULT_CHECK_TIMEOUT_MS = 2_500;

export interface DoctorReport {
  /** FAIL when any check failed, WARN when any warned, else OK. */
  status: CheckStatus;
  counts: Record<CheckStatus, number>;
  checks: CheckResult[];
  durationMs: number;
}

const PG_FIX = 'start PostgreSQL or set DATABASE_URL (--database-url) to a reachable one';

/**
 * `doctor`: every family of checks at once, each within `timeoutMs` (a service that is down or does
 * not answer costs at most that, and is named), on clients of its own with short timeouts and no
 * retries, all closed before returning. Reads only.
 */
export async function runDoctor(deps: {
  config: AppConfig;
  logger: Logger;
  timeoutMs?: number;
}): Promise<DoctorReport> {
  const { config, logger } = deps;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const started = Date.now();
  const pool = createPool(
    { url: config.database.url, poolMax: 4, applicationName: 'commerce-doctor' },
    logger,
  );
  const kafka = createKafka(config.kafka, logger, {
    connectionTimeout: Math.min(timeoutMs, 2_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const kafkaClients: { admin?: Admin; fetcher?: PartitionFetcher } = {};
  const pg = (family: () => Promise<CheckResult[]>, name: string) =>
    withinTimeout(
      name,
      'PostgreSQL',
      timeoutMs,
      PG_FIX,
      family,
      'commerce db migrate (a table missing?), commerce db status',
    );
  try {
    const families = await Promise.all([
      pg(() => postgresChecks(pool), 'postgres'),
      pg(() => outboxChecks(pool), 'outbox'),
      pg(() => paymentsChecks(pool), 'payments'),
      pg(() => jobChecks(pool), 'jobs'),
      withinTimeout('redis', 'Redis', timeoutMs, 'start Redis or set REDIS_URL (--redis-url)', () =>
        redisChecks(config.redis, timeoutMs),
      ),
      withinTimeout(
        'kafka',
        'Kafka',
        timeoutMs,
        'start Kafka or set KAFKA_BROKERS (--kafka-brokers) to reachable brokers',
        () => kafkaChecks(kafka, config.kafka, kafkaClients),
      ),
    ]);
    const checks = onePerOutage(families.flat());
    const counts = { OK: 0, WARN: 0, FAIL: 0 };
    for (const c of checks) counts[c.status]++;
    const status: CheckStatus = counts.FAIL > 0 ? 'FAIL' : counts.WARN > 0 ? 'WARN' : 'OK';
    return { status, counts, checks, durationMs: Date.now() - started };
  } finally {
    await Promise.all([
      kafkaClients.fetcher?.close().catch(() => undefined),
      kafkaClients.admin?.disconnect().catch(() => undefined),
      pool.end().catch(() => undefined),
    ]);
  }
}

/** PostgreSQL down fails all four of its families the same way: one line says it. */
function onePerOutage(checks: CheckResult[]): CheckResult[] {
  const seen = new Set<string>();
  return checks.filter((c) => {
    if (c.status !== 'FAIL' || !c.name.endsWith(' reachable')) return true;
    if (seen.has(c.name)) return false;
    seen.add(c.name);
    return true;
  });
}
