import type pg from 'pg';
import { one, sql } from '../../lib/db/query.js';

/**
 * The demo's events are the outbox rows written since it started (id above the watermark taken
 * before seeding). These statements measure how far the pipeline has carried them.
 */
export const outboxWatermark = () =>
  sql('demo.outbox-watermark', `SELECT coalesce(max(id), 0)::bigint AS id FROM outbox_event`);

// "Consumed" = the metrics handler's mark (the demo's collector runs the default handlers), whichever
// group wrote it: marks belong to handlers, not groups.
const progress = (watermark: string) =>
  sql(
    'demo.progress',
    `SELECT count(*)::int AS written,
            count(*) FILTER (WHERE o.status = 'PENDING')::int AS pending,
            count(*) FILTER (WHERE o.status = 'PUBLISHED')::int AS published,
            count(*) FILTER (WHERE o.status = 'FAILED')::int AS failed,
            count(h.event_id)::int AS consumed
       FROM outbox_event o
       LEFT JOIN event_handled h ON h.event_id = o.event_id AND h.handler = 'metrics'
      WHERE o.id > $1`,
    [watermark],
  );

/** Commit (outbox created_at) to effect (event_log received_at, the collector's transaction). */
const latency = (watermark: string) =>
  sql(
    'demo.latency',
    `SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY ms) AS p
       FROM (SELECT extract(epoch FROM l.received_at - o.created_at) * 1000 AS ms
               FROM outbox_event o
               JOIN event_log l ON l.event_id = o.event_id
              WHERE o.id > $1) t`,
    [watermark],
  );

export interface PipelineProgress {
  written: number;
  pending: number;
  published: number;
  failed: number;
  consumed: number;
}

export interface LatencyMs {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export async function pipelineProgress(pool: pg.Pool, watermark: string): Promise<PipelineProgress> {
  return (await one<PipelineProgress>(pool, progress(watermark)))!;
}

export async function pipelineLatency(pool: pg.Pool, watermark: string): Promise<LatencyMs> {
  const row = await one<{ p: number[] | null }>(pool, latency(watermark));
  const [p50, p95, p99] = (row?.p ?? [null, null, null]).map((v) => (v === null ? null : Math.round(v)));
  return { p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null };
}
