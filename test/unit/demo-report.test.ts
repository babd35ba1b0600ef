import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/jobs/demo/report.js';
import type { DemoResult } from '../../src/jobs/demo/demo.js';

const result = (over: Partial<DemoResult> = {}): DemoResult => ({
  verified: true,
  mismatches: [],
  unexpectedResponses: [],
  paymentProblems: [],
  payments: {
    payments: 9,
    succeeded: 5,
    failed: 2,
    refunded: 2,
    recovered: 1,
    recoverRuns: 2,
    failuresInjected: 2,
    callbacksLost: 2,
  },
  latePayments: { orderId: 41, sent: 2, charged: 1, refunded: 1 },
  pointsProblems: [],
  points: { users: 4, points: 1245, entries: 8 },
  brand: 'Demo x',
  products: 8,
  traffic: {
    requests: 1,
    views: 0,
    likeCalls: 0,
    orders: 1,
    soldOut: 0,
    paid: 0,
    cancelled: 0,
    expired: 1,
    unexpected: 0,
  },
  pipeline: {
    written: 1,
    published: 1,
    consumed: 1,
    duplicatesSkipped: 0,
    deadLettered: 0,
    latencyMs: { p50: 1, p95: 2, p99: 3 },
  },
  liveTop10: [],
  weekly: { label: '2026-W50', start: '2026-12-07', end: '2026-12-13', top10: [] },
  monthly: { label: '2026-12', rowsWritten: 8 },
  durationMs: 8_000,
  ...over,
});

describe('the demo report', () => {
  it('names the late payment: refunded of charged, on which expired order, and says it was verified', () => {
    const text = renderReport(result());
    expect(text).toMatch(
      /late payments refunded\s+│ 1 of 1 charged on order #41 after it expired \(2 payment\(s\) sent, 1 declined\)/,
    );
    expect(text).toContain('Verified: the payment charged after order #41 expired was refunded once');
  });

  it('lists the late payment problems when the check fails', () => {
    const text = renderReport(
      result({
        verified: false,
        latePayments: { orderId: 41, sent: 1, charged: 1, refunded: 0 },
        paymentProblems: ['late payment of order 41: payments 7 SUCCEEDED'],
      }),
    );
    expect(text).toContain('0 of 1 charged on order #41');
    expect(text).toContain('NOT verified: 0 mismatch(es), 0 unexpected response(s), 1 payment problem(s)');
    expect(text).toContain('  late payment of order 41: payments 7 SUCCEEDED');
    expect(text).not.toContain('Verified: the payment');
  });
});
