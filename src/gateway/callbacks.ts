import type { Logger } from '../lib/log.js';
import {
  GATEWAY_SIGNATURE_HEADER,
  GATEWAY_TIMESTAMP_HEADER,
  signGatewayCallback,
} from '../lib/payments/signature.js';
import type { GatewayCallback, GatewayTransaction } from '../lib/payments/types.js';
import type { SimulatorOptions } from './options.js';
import type { Draw } from './random.js';
import type { GatewayState } from './state.js';

const DELIVERY_TIMEOUT_MS = 5_000;
const REASONS = ['LIMIT_EXCEEDED', 'INVALID_CARD'] as const;

/**
 * Settles each transaction after the settle delay and calls its callbackUrl back, misbehaving as told:
 * a share of callbacks is never sent, a share is sent twice (each time freshly signed), and a delivery
 * that fails is not retried. stop() cancels pending settlements and in-flight deliveries.
 */
export class Settlements {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new AbortController();

  constructor(
    private readonly state: GatewayState,
    private readonly options: SimulatorOptions,
    private readonly draw: Draw,
    private readonly logger: Logger,
  ) {}

  schedule(tx: GatewayTransaction, callbackUrl: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.settle(tx, callbackUrl);
    }, delayMs);
    this.timers.add(timer);
  }

  private settle(tx: GatewayTransaction, callbackUrl: string): void {
    const { paymentId } = tx;
    const success = this.draw('outcome', paymentId) < this.options.successRate;
    const reason = REASONS[this.draw('reason', paymentId) < 0.5 ? 0 : 1];
    this.state.settle(tx, success ? 'SUCCESS' : 'FAILED', success ? undefined : reason);
    const callback: GatewayCallback = {
      transactionKey: tx.transactionKey,
      paymentId,
      orderId: tx.orderId,
      amount: tx.amount,
      status: success ? 'SUCCESS' : 'FAILED',
      ...(success ? {} : { reason }),
      settledAt: tx.settledAt!,
    };
    const { callbacks } = this.state.stats;
    if (this.draw('loss', paymentId) < this.options.callbackLossRate) {
      callbacks.lost++;
      this.logger.debug({ paymentId, status: callback.status }, 'callback lost (injected)');
      return;
    }
    const twice = this.draw('duplicate', paymentId) < this.options.callbackDuplicateRate;
    if (twice) callbacks.duplicated++;
    void this.deliver(callbackUrl, callback).then(() =>
      twice ? this.deliver(callbackUrl, callback) : undefined,
    );
  }

  /** One POST, never retried; never rejects. */
  private async deliver(url: string, callback: GatewayCallback): Promise<void> {
    if (this.inFlight.signal.aborted) return;
    const body = JSON.stringify(callback);
    const timestamp = Math.floor(Date.now() / 1000);
    this.state.stats.callbacks.sent++;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [GATEWAY_TIMESTAMP_HEADER]: String(timestamp),
          [GATEWAY_SIGNATURE_HEADER]: signGatewayCallback(this.options.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.any([this.inFlight.signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`receiver answered ${response.status}`);
    } catch (err) {
      this.state.stats.callbacks.failed++;
      this.logger.debug(
        { paymentId: callback.paymentId, url, err: (err as Error).message },
        'callback not delivered (not retried)',
      );
    }
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.inFlight.abort();
  }
}
