import { randomUUID } from 'node:crypto';
import type { GatewayStatus, GatewayTransaction } from '../lib/payments/types.js';

/** The gateway's truth, in memory: transactions by paymentId (its idempotency key) and by key. */
export class GatewayState {
  readonly byPayment = new Map<string, GatewayTransaction>();
  readonly byKey = new Map<string, GatewayTransaction>();
  /** Requests per paymentId so far: the request number seeds that request's random choices. */
  private readonly requestNumbers = new Map<string, number>();
  readonly stats = {
    requests: { payments: 0, refunds: 0, lookups: 0 },
    /** paymentId -> times a transaction was created for it: never more than 1. */
    charges: {} as Record<string, number>,
    failuresInjected: 0,
    failuresByKind: { error: 0, hang: 0, reset: 0 },
    callbacks: { sent: 0, lost: 0, duplicated: 0, failed: 0 },
  };

  nextRequestNumber(kind: string, paymentId: string): number {
    const key = `${kind}:${paymentId}`;
    const n = (this.requestNumbers.get(key) ?? 0) + 1;
    this.requestNumbers.set(key, n);
    return n;
  }

  /** The transaction of this paymentId, created on the first request only. */
  getOrCreate(p: { paymentId: string; orderId: number; amount: number }): {
    tx: GatewayTransaction;
    created: boolean;
  } {
    const existing = this.byPayment.get(p.paymentId);
    if (existing) return { tx: existing, created: false };
    const tx: GatewayTransaction = {
      transactionKey: `tx_${randomUUID().replaceAll('-', '')}`,
      paymentId: p.paymentId,
      orderId: p.orderId,
      amount: p.amount,
      status: 'PENDING',
      createdAt: new Date().toISOString(),
    };
    this.byPayment.set(p.paymentId, tx);
    this.byKey.set(tx.transactionKey, tx);
    this.stats.charges[p.paymentId] = (this.stats.charges[p.paymentId] ?? 0) + 1;
    return { tx, created: true };
  }

  settle(
    tx: GatewayTransaction,
    status: Extract<GatewayStatus, 'SUCCESS' | 'FAILED'>,
    reason?: string,
  ): void {
    tx.status = status;
    if (reason) tx.reason = reason;
    tx.settledAt = new Date().toISOString();
  }

  findByOrder(orderId: number): GatewayTransaction[] {
    return [...this.byPayment.values()].filter((tx) => tx.orderId === orderId);
  }

  snapshot() {
    return { ...this.stats, transactions: this.byPayment.size };
  }
}
