import { renderTable } from '../../lib/cli/table.js';
import type { RankRow } from './rankings.js';
import type { DemoResult } from './demo.js';

const ranking = (rows: RankRow[]) =>
  rows.length === 0
    ? '(none)'
    : renderTable(rows, [
        { header: 'Rank', get: (r) => r.rank, align: 'right' },
        { header: 'Product', get: (r) => `${r.name} (#${r.productId})` },
        { header: 'Score', get: (r) => r.score.toFixed(1), align: 'right' },
      ]);

const latePayments = (l: DemoResult['latePayments']) =>
  l.orderId === null
    ? '- (no order to land on)'
    : `${l.refunded} of ${l.charged} charged on order #${l.orderId} after it expired ` +
      `(${l.sent} payment(s) sent, ${l.sent - l.charged} declined)`;

const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);

/** The demo's report for people: rankings, pipeline figures, the self-check's verdict. */
export function renderReport(r: DemoResult): string {
  const t = r.traffic;
  const p = r.pipeline;
  const figures: Array<[string, string | number]> = [
    [
      'HTTP requests',
      `${t.requests} (views ${t.views}, likes ${t.likeCalls}, orders ${t.orders} + ${t.soldOut} sold out, paid ${t.paid}, cancelled ${t.cancelled}, expired ${t.expired})`,
    ],
    [
      'payments (gateway simulator)',
      `${r.payments.payments}: ${r.payments.succeeded} succeeded, ${r.payments.failed} failed, ${r.payments.refunded} refunded; ` +
        `recover settled or resent ${r.payments.recovered} in ${r.payments.recoverRuns} run(s); ` +
        `${r.payments.failuresInjected} failures injected, ${r.payments.callbacksLost} callbacks lost`,
    ],
    ['late payments refunded', latePayments(r.latePayments)],
    [
      'loyalty points',
      `${r.points.points} points earned by ${r.points.users} user(s), ${r.points.entries} ledger entries`,
    ],
    ['events written (outbox)', p.written],
    ['events published', p.published],
    ['events consumed', p.consumed],
    ['duplicates skipped', p.duplicatesSkipped],
    ['dead letters', p.deadLettered],
    [
      'latency commit -> metrics',
      `p50 ${ms(p.latencyMs.p50)}, p95 ${ms(p.latencyMs.p95)}, p99 ${ms(p.latencyMs.p99)}`,
    ],
  ];
  const lines = [
    `Brand "${r.brand}": ${r.products} products, ${(r.durationMs / 1000).toFixed(1)}s in all.`,
    '',
    'Live top 10 (Redis, today)',
    ranking(r.liveTop10),
    '',
    `Weekly top 10 (${r.weekly.label}, ${r.weekly.start}..${r.weekly.end}; this run's products, rank among all)`,
    ranking(r.weekly.top10),
    '',
    'Pipeline',
    renderTable(figures, [
      { header: 'Figure', get: (f) => f[0] },
      { header: 'Value', get: (f) => f[1] },
    ]),
    '',
  ];
  if (r.verified) {
    lines.push(`Verified: product_metrics of all ${r.products} products equal what the traffic implies.`);
    lines.push(
      `Verified: all ${r.payments.payments} payments settled as the gateway says; none charged twice.`,
    );
    lines.push(
      `Verified: the payment charged after order #${r.latePayments.orderId} expired was refunded once ` +
        '(simulator: one charge, refunded), its stock is back and it kept no points.',
    );
    lines.push(`Verified: every user's points balance is the rule on their paid orders.`);
  } else {
    lines.push(
      `NOT verified: ${r.mismatches.length} mismatch(es), ${r.unexpectedResponses.length} unexpected response(s), ${r.paymentProblems.length} payment problem(s), ${r.pointsProblems.length} points problem(s).`,
    );
    for (const m of r.mismatches.slice(0, 20))
      lines.push(`  product ${m.productId} ${m.field}: expected ${m.expected}, got ${m.actual}`);
    for (const u of r.unexpectedResponses) lines.push(`  ${u}`);
    for (const problem of r.paymentProblems.slice(0, 20)) lines.push(`  ${problem}`);
    for (const problem of r.pointsProblems.slice(0, 20)) lines.push(`  ${problem}`);
  }
  return lines.join('\n');
}
