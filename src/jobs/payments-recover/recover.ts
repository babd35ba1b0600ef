import { rows } from '../../lib/db/query.js';
import { runExclusiveJob } from '../../lib/db/job-runs.js';
import { batchJob } from '../../lib/jobs/registry.js';
import type { AppConfig } from '../../lib/config/config.js';
import type { GatewayClientOptions, GatewayTransaction } from '../../lib/payments/gateway-client.js';
import { gatewayClientOptions } from '../../lib/payments/options.js';
import {
  refundIfRequested,
  sendPayment,
  sendRefund,
  type PaymentDeps,
} from '../../domain/payments/gateway.js';
import { applyGatewayState, type SettleOutcome } from '../../domain/payments/settle.js';
import { selectStale, type PaymentRow, type PaymentStatus } from '../../domain/payments/sql.js';

export const RECOVER_JOB = batchJob('payments-recover');

/**
 * The recovery job's gateway settings. It is a batch with no caller waiting, so it may try harder
 * than the API: 5 attempts (backoff 50-500ms) per call, and its breaker opens after 10 consecutive
 * failed attempts, so a flaky gateway (30% failures) does not stop the run while a gateway that is
 * down (every attempt fails) stops it after two or three payments.
 */
export function recoverClientOptions(config: AppConfig, callbackUrl: string): GatewayClientOptions {
  return gatewayClientOptions(config, callbackUrl, {
    retry: { attempts: 5, baseMs: 50, maxMs: 500 },
    breaker: { failureThreshold: 10, halfOpenAfterMs: config.gateway.breakerHalfOpenMs },
  });
}

/** Calls of one payment's resend or refund per run: each call already retries. */
const CALLS_PER_PAYMENT = 2;

export interface RecoverOptions {
  olderThanMs: number;
  limit: number;
  signal?: AbortSignal;
  onProgress?: (text: string) => void;
}

/** What recovery did to one payment. */
export type RecoverAction =
  | 'succeeded' // settled SUCCEEDED from the gateway's truth (order PAID + OrderPaid)
  | 'failed' // settled FAILED from the gateway's truth (PaymentFailed)
  | 'refunded' // a pending refund confirmed by the gateway, or a charge of an expired/cancelled order refunded
  | 'resent' // the gateway never got it: sent again (same key), now PENDING there
  | 'waiting' // the gateway has it and has not settled it yet: nothing to do now
  | 'unchanged' // settled meanwhile (a callback won the race)
  | 'error' // the gateway did not answer: still unsettled
  | 'skipped'; // not tried: the run stopped early (breaker open, or a signal)

export interface RecoverItem {
  paymentId: number;
  orderId: number;
  from: PaymentStatus;
  to: PaymentStatus;
  action: RecoverAction;
  error?: string;
}

export interface RecoverResult {
  jobRunId: number;
  examined: number;
  counts: Record<RecoverAction, number>;
  /** Payments that could not be settled or refunded in this run (error + skipped): exit 1 when > 0. */
  unsettled: number;
  /** Why the run stopped before the end of its list: 'breaker-open' or the signal's name. */
  stoppedEarly: string | null;
  items: RecoverItem[];
}

/**
 * `payments recover`: settles payments left REQUESTED or PENDING for longer than --older-than from the
 * gateway's truth, resends the ones the gateway never got (same idempotency key: never a second
 * charge), and finishes refunds the gateway did not confirm. Oldest first, at most --limit, under
 * the job lock, recorded in job_run. When the breaker opens (the gateway is down) it stops at once:
 * every further call would be refused without reaching the gateway.
 */
export async function recoverPayments(deps: PaymentDeps, options: RecoverOptions): Promise<RecoverResult> {
  const params = { olderThanMs: options.olderThanMs, limit: options.limit };
  const { result, run } = await runExclusiveJob(deps.pool, RECOVER_JOB, params, async (ctx) => {
    const stale = await rows<PaymentRow>(deps.pool, selectStale(options.olderThanMs, options.limit));
    ctx.rowsRead = stale.length;
    const items: RecoverItem[] = [];
    let stoppedEarly: string | null = null;
    for (const payment of stale) {
      const item = { paymentId: payment.id, orderId: payment.order_id, from: payment.status };
      if (!stoppedEarly && options.signal?.aborted) stoppedEarly = String(options.signal.reason ?? 'aborted');
      if (!stoppedEarly && deps.gateway.breakerState === 'open') stoppedEarly = 'breaker-open';
      if (stoppedEarly) {
        items.push({ ...item, to: payment.status, action: 'skipped' });
        continue;
      }
      const done = await recoverOne(deps, payment, options.signal);
      items.push({ ...item, ...done });
      if (done.action !== 'waiting' && done.action !== 'unchanged' && done.action !== 'error')
        ctx.rowsWritten++;
      options.onProgress?.(`${items.length}/${stale.length} payment(s) examined`);
    }
    return { items, stoppedEarly };
  });
  const counts = Object.fromEntries(
    (['succeeded', 'failed', 'refunded', 'resent', 'waiting', 'unchanged', 'error', 'skipped'] as const).map(
      (a) => [a, result.items.filter((i) => i.action === a).length],
    ),
  ) as Record<RecoverAction, number>;
  return {
    jobRunId: run.id,
    examined: result.items.length,
    counts,
    unsettled: counts.error + counts.skipped,
    stoppedEarly: result.stoppedEarly,
    items: result.items,
  };
}

async function recoverOne(
  deps: PaymentDeps,
  payment: PaymentRow,
  signal?: AbortSignal,
): Promise<{ to: PaymentStatus; action: RecoverAction; error?: string }> {
  if (payment.status === 'REFUND_REQUESTED') {
    const sent = await persist(deps, () => sendRefund(deps, payment, signal));
    return outcomeOf(sent.payment.status, sent.outcome, sent.error);
  }
  const truth = await gatewayTruth(deps, payment, signal);
  if (!truth.ok) return { to: payment.status, action: 'error', error: truth.error };
  if (!truth.transaction) {
    // The gateway never got it (its request failed before reaching it): send it again.
    const sent = await persist(deps, () => sendPayment(deps, payment, signal));
    if (sent.outcome === 'pending') return { to: sent.payment.status, action: 'resent' };
    return outcomeOf(sent.payment.status, sent.outcome, sent.error);
  }
  const t = truth.transaction;
  // A charge of an order that expired or was cancelled meanwhile is refunded here and now.
  const applied = await refundIfRequested(
    deps,
    await applyGatewayState(deps, payment, {
      status: t.status,
      transactionKey: t.transactionKey,
      reason: t.reason ?? null,
    }),
    signal,
  );
  if (applied.outcome === 'pending' || (applied.outcome === 'unchanged' && t.status === 'PENDING'))
    return { to: applied.payment.status, action: 'waiting' };
  return outcomeOf(applied.payment.status, applied.outcome, applied.error);
}

/** Calls again (same idempotency key) when a call got no answer, unless the breaker has opened. */
async function persist(
  deps: PaymentDeps,
  call: () => ReturnType<typeof sendPayment>,
): ReturnType<typeof sendPayment> {
  let result = await call();
  for (let i = 1; i < CALLS_PER_PAYMENT && result.outcome === 'no-answer'; i++) {
    if (deps.gateway.breakerState === 'open') break;
    result = await call();
  }
  return result;
}

function outcomeOf(
  to: PaymentStatus,
  outcome: SettleOutcome | 'no-answer',
  error?: string,
): { to: PaymentStatus; action: RecoverAction; error?: string } {
  if (outcome === 'no-answer') return { to, action: 'error', error };
  // Charged on an order no longer payable, and the refund got no answer: still owed (the next run).
  if (outcome === 'refund-requested') return { to, action: 'error', error: error ?? 'refund not answered' };
  if (outcome === 'pending') return { to, action: 'waiting' };
  return { to, action: outcome };
}

/** The gateway's transaction for this payment (by transaction key when we have one, else by payment key). */
async function gatewayTruth(
  deps: PaymentDeps,
  payment: PaymentRow,
  signal?: AbortSignal,
): Promise<{ ok: true; transaction: GatewayTransaction | null } | { ok: false; error: string }> {
  if (payment.transaction_key) {
    const found = await deps.gateway.findByTransactionKey(payment.transaction_key, signal);
    if (!found.ok) return { ok: false, error: `${found.reason}: ${found.message}` };
    if (found.value) return { ok: true, transaction: found.value };
  }
  const found = await deps.gateway.findByPayment(payment.payment_key, signal);
  if (!found.ok) return { ok: false, error: `${found.reason}: ${found.message}` };
  return { ok: true, transaction: found.value[0] ?? null };
}
