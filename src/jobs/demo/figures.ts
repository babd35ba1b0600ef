import type pg from 'pg';
import { one } from '../../lib/db/query.js';
import { selectLatency, selectProgress } from './sql.js';

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
  return (await one<PipelineProgress>(pool, selectProgress(watermark)))!;
}

export async function pipelineLatency(pool: pg.Pool, watermark: string): Promise<LatencyMs> {
  const row = await one<{ p: number[] | null }>(pool, selectLatency(watermark));
  const [p50, p95, p99] = (row?.p ?? [null, null, null]).map((v) => (v === null ? null : Math.round(v)));
  return { p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null };
}
