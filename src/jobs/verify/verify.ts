import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../../lib/config/config.js';
import { one, rows } from '../../lib/db/query.js';
import { dateInZone } from '../../lib/time/dates.js';
import { checkOutbox, collectorPosition } from './outbox.js';
import { checkProducts } from './products.js';
import { checkPoints } from './points.js';
import { DEFAULT_CARRY_WEIGHT } from '../../domain/rankings/carry-over.js';
import { rankingDay } from '../../domain/rankings/live-day.js';
import { confirmRanking, rankingCandidates } from './ranking.js';
import type { VerifyReport } from './report.js';
import { withSnapshot } from '../../lib/db/transaction.js';
import { selectDatabaseNow, selectInFlightProducts } from './sql.js';

export type { Difference, VerifyReport } from './report.js';

export interface VerifyOptions {
  pool: pg.Pool;
  redis: Redis;
  kafka: Kafka;
  config: AppConfig;
  /** Only these products (metrics, daily, ranking); the outbox check is not per product. */
  products?: number[];
  /** Only products with an event since this date, and outbox events created since. */
  since?: string;
  /** The live ranking's day (default: today in TIMEZONE). */
  date?: string;
  /** The weight `ranking carry-over` used, counted only when the day's carry-over mark exists. */
  carryWeight?: number;
  chunkSize?: number;
  onProgress?: (text: string) => void;
}

export const VERIFY_DEFAULTS = { chunkSize: 1_000, carryWeight: DEFAULT_CARRY_WEIGHT } as const;

async function inFlightProducts(
  client: pg.PoolClient,
): Promise<{ ids: Set<number>; byReason: Record<string, number> }> {
  const found = await rows<{ reason: string; product_id: string }>(client, selectInFlightProducts());
  const byReason: Record<string, number> = {};
  for (const r of found) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
  return { ids: new Set(found.map((r) => Number(r.product_id))), byReason };
}

/**
 * Compares every read model with its source of truth (docs/batch-jobs.md, "Consistency") and lists each
 * difference. What is in flight (unpublished, uncollected, unaudited events; partitions the collector
 * has not caught up on) is counted, not compared. Reads only.
 */
export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const { pool, redis, config } = options;
  const chunkSize = options.chunkSize ?? VERIFY_DEFAULTS.chunkSize;
  const ids = options.products && options.products.length > 0 ? options.products : null;
  const since = options.since ?? null;
  const progress = options.onProgress ?? (() => undefined);
  const day = await rankingDay(
    redis,
    options.date ?? dateInZone(new Date(), config.timezone),
    options.carryWeight ?? VERIFY_DEFAULTS.carryWeight,
  );
  const keyExists = (await redis.exists(day.key)) === 1;

  // The database's clock before the offsets: events published earlier were on Kafka when they were read.
  const before = (await one<{ now: Date }>(pool, selectDatabaseNow()))!.now;
  const topics = [config.kafka.topics.catalog, config.kafka.topics.order];
  const position = await collectorPosition(options.kafka, config.kafka.groupId, topics);

  const first = await withSnapshot(pool, async (client) => {
    const inFlight = await inFlightProducts(client);
    progress('checking product metrics');
    const products = await checkProducts(
      client,
      { ids, since, timeZone: config.timezone, chunkSize, inFlight: inFlight.ids },
      (n) => progress(`products checked: ${n}`),
    );
    progress('checking the live ranking');
    // The expected score comes from the daily rows: where they are wrong, it is unknown until they are
    // rebuilt (`rebuild --target daily`, then `--target ranking`); the daily difference is reported.
    const dailyWrong = new Set(
      products.differences.filter((d) => d.check === 'daily').map((d) => d.productId!),
    );
    const ranking = await rankingCandidates(client, redis, day, {
      weights: config.ranking,
      ids,
      chunkSize,
      inFlight: new Set([...inFlight.ids, ...dailyWrong]),
    });
    progress('checking the outbox against event_log');
    const outbox = await checkOutbox(client, position, {
      before,
      since,
      timeZone: config.timezone,
      chunkSize,
    });
    progress('checking loyalty points');
    const points = await checkPoints(client, { rateBasisPoints: config.points.rateBasisPoints, chunkSize });
    return { inFlight, products, ranking, outbox, dailyWrong, points };
  });
  const ranking = await confirmRanking(pool, redis, day, {
    weights: config.ranking,
    candidates: first.ranking.candidates.filter((id) => !first.dailyWrong.has(id)),
    chunkSize,
    inFlight: async (client) => (await inFlightProducts(client)).ids,
  });
  const differences = [
    ...first.products.differences,
    ...ranking,
    ...first.outbox.differences,
    ...first.points.differences,
  ];
  return {
    consistent: differences.length === 0,
    differences,
    checked: {
      products: first.products.checked,
      rankingMembers: first.ranking.members,
      outboxNotInEventLog: first.outbox.checked,
      pointsUsers: first.points.checked,
    },
    inFlight: {
      products: first.inFlight.ids.size,
      byReason: first.inFlight.byReason,
      outboxEventsBehindCollector: first.outbox.behind,
      pointsUsers: first.points.inFlight,
    },
    ranking: {
      date: day.date,
      key: day.key,
      keyExists,
      carriedOver: day.carriedOver,
      carryWeight: day.carryWeight,
      notComparedDailyDiffers: first.dailyWrong.size,
    },
    durationMs: Date.now() - started,
  };
}
