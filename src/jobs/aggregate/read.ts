import Cursor from 'pg-cursor';
import type pg from 'pg';
import { InterruptedError } from '../../lib/errors.js';
import type { RankingWeights } from '../../lib/ranking/score.js';
import { TopN } from '../../lib/ranking/top-n.js';
import type { Period } from '../../lib/time/periods.js';
import { sumPeriodMetrics } from './sql.js';
import { candidateOf, compareCandidates, type Candidate, type PeriodSumRow } from './rank.js';

/** What a run stopped by a signal leaves (exit 1, job_run FAILED 'interrupted (SIGTERM); ...'). */
export const RANKING_UNCHANGED = 'the ranking was not written; the previous ranking is unchanged';

export interface ReadOptions {
  top: number;
  chunkSize: number;
  weights: RankingWeights;
  signal?: AbortSignal;
  /** Called after every chunk with the rows read so far; a throw ends the read with that error. */
  onRows: (rowsRead: number) => void;
}

/**
 * Streams the period's per-product sums through a cursor, `chunkSize` rows at a time, keeping only
 * the best `top` in a heap: memory is bounded by chunkSize + top, not by the number of products.
 * Products whose score is not positive are not ranked. Runs on its own connection, before (and
 * outside) the short write transaction.
 */
export async function readTopProducts(
  pool: pg.Pool,
  period: Period,
  options: ReadOptions,
): Promise<Candidate[]> {
  const best = new TopN<Candidate>(options.top, compareCandidates);
  const q = sumPeriodMetrics(period);
  const client = await pool.connect();
  const cursor = client.query(new Cursor<PeriodSumRow>(q.text, q.values));
  let failed: Error | undefined;
  let rowsRead = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new InterruptedError(options.signal, RANKING_UNCHANGED);
      const chunk = await cursor.read(options.chunkSize);
      if (chunk.length === 0) break;
      for (const row of chunk) {
        const candidate = candidateOf(row, options.weights);
        if (candidate.score > 0) best.push(candidate);
      }
      rowsRead += chunk.length;
      options.onRows(rowsRead);
    }
  } catch (err) {
    failed = err as Error;
    throw err;
  } finally {
    await cursor.close().catch(() => undefined);
    client.release(failed); // a client whose query failed is discarded, not reused
  }
  return best.sorted();
}
