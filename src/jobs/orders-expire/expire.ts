import { runExclusiveJob } from '../../lib/db/job-runs.js';
import { batchJob } from '../../lib/jobs/registry.js';
import type { ServiceDeps } from '../../domain/deps.js';
import {
  countWaitingForPayment,
  dueOrders,
  expireBatch,
  type DueOrders,
  type ExpiredOrder,
} from '../../domain/orders/expiry.js';

export const EXPIRE_JOB = batchJob('orders-expire');

export interface ExpireOptions {
  /** Orders per transaction: each batch holds its orders' and products' locks until it commits. */
  batchSize: number;
  /** At most this many orders per run (the next run, a minute later, takes the rest). */
  limit: number;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (text: string) => void;
}

export interface ExpireResult {
  dryRun: boolean;
  /** null under --dry-run (no lock, no job_run row). */
  jobRunId: number | null;
  /** Orders expired, or under --dry-run the orders a run would expire now. */
  expired: number;
  batches: number;
  /** Past their deadline but with a payment in flight: they expire once it is settled FAILED. */
  waitingForPayment: number;
  /** Stopped between batches by SIGINT/SIGTERM; the next run takes the rest. */
  interrupted: boolean;
  /** The orders (expired, or that would be), oldest deadline first. */
  orders: Array<Pick<ExpiredOrder, 'orderId' | 'userId' | 'totalAmount' | 'expiresAt'>>;
}

/**
 * `orders expire`: unpaid orders past their payment window become EXPIRED, batch after batch (each
 * one transaction: status, stock back, StockAdjusted + OrderExpired in the outbox; then the product
 * cache evicted) until a batch comes back short or --limit is reached. Under the job lock, recorded in
 * job_run; the batches claim with SKIP LOCKED, so the job also runs safely beside live traffic and
 * beside another run whose lock session was lost. --dry-run lists what would expire and changes nothing.
 */
export async function runOrdersExpire(deps: ServiceDeps, options: ExpireOptions): Promise<ExpireResult> {
  if (options.dryRun) {
    const due: DueOrders = await dueOrders(deps, options.limit);
    return {
      dryRun: true,
      jobRunId: null,
      expired: due.orders.length,
      batches: 0,
      waitingForPayment: due.waitingForPayment,
      interrupted: false,
      orders: due.orders,
    };
  }
  const params = { batchSize: options.batchSize, limit: options.limit };
  const { result, run } = await runExclusiveJob(deps.pool, EXPIRE_JOB, params, async (ctx) => {
    const orders: ExpireResult['orders'] = [];
    let batches = 0;
    let interrupted = false;
    while (orders.length < options.limit) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const size = Math.min(options.batchSize, options.limit - orders.length);
      const batch = await expireBatch(deps, size);
      batches++;
      ctx.rowsRead += batch.claimed;
      ctx.rowsWritten += batch.expired.length;
      for (const { orderId, userId, totalAmount, expiresAt } of batch.expired)
        orders.push({ orderId, userId, totalAmount, expiresAt });
      options.onProgress?.(`expired ${orders.length} order(s) in ${batches} batch(es)`);
      if (batch.claimed < size) break;
    }
    return { orders, batches, interrupted, waitingForPayment: await countWaitingForPayment(deps) };
  });
  return {
    dryRun: false,
    jobRunId: run.id,
    expired: result.orders.length,
    batches: result.batches,
    waitingForPayment: result.waitingForPayment,
    interrupted: result.interrupted,
    orders: result.orders,
  };
}
