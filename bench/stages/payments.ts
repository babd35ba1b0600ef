import autocannon, { type Result } from 'autocannon';
import { createBenchContext } from '../lib/context.js';
import { firstJsonLine, spawnTs, stopChild } from '../lib/child.js';
import { figure, target, type Figure, type StageOptions, type StageResult } from '../lib/measure.js';

const SECRET = 'bench-gateway-secret';
const TIMEOUT = '500ms';

/**
 * Payments: latency of POST /orders/:id/pay (20 connections, each order paid once) with the gateway
 * simulator at 0% and 30% failures and with the gateway down (nothing listening: the breaker opens),
 * against the same route whose gateway answers at once in process (the route without the gateway
 * call). GATEWAY_TIMEOUT is 500ms, so the route's gateway budget is 600ms.
 */
export async function paymentsStage({ quick, log }: StageOptions): Promise<StageResult> {
  const orders = quick ? 300 : 2_000;
  const ctx = await createBenchContext();
  const children = [] as Array<ReturnType<typeof spawnTs>>;
  const start = async (args: string[], env: Record<string, string> = {}) => {
    const child = spawnTs('./serve.ts', args, {
      ...ctx.env,
      GATEWAY_SECRET: SECRET,
      GATEWAY_TIMEOUT: TIMEOUT,
      ...env,
    });
    children.push(child);
    return (await firstJsonLine<{ url: string }>(child)).url;
  };
  try {
    const [ok, flaky] = await Promise.all([start(['gateway', '0']), start(['gateway', '0.3'])]);
    const scenarios: Array<[string, string[], Record<string, string>]> = [
      ['no gateway call', ['api-no-gateway'], {}],
      ['gateway 0% failures', ['api'], { GATEWAY_URL: ok }],
      ['gateway 30% failures', ['api'], { GATEWAY_URL: flaky }],
      // Port 9 (discard) has nothing listening here: every call is refused, then the breaker opens.
      ['gateway down', ['api'], { GATEWAY_URL: 'http://127.0.0.1:9' }],
    ];
    const results: Array<[string, Result]> = [];
    for (const [name, args, env] of scenarios) {
      const url = await start(args, env);
      const ids = (
        await ctx.pool.query<{ id: number }>(
          `INSERT INTO orders (user_id, total_amount, version) SELECT 'bench-payer', 1000, 1
             FROM generate_series(1, $1) RETURNING id`,
          [orders],
        )
      ).rows.map((r) => r.id);
      let next = 0;
      log(`payments: ${name}, ${orders} pay requests`);
      const result = await autocannon({
        url,
        connections: 20,
        amount: orders,
        method: 'POST',
        headers: { 'x-user-id': 'bench-payer' },
        requests: [
          { setupRequest: (req) => ({ ...req, path: `/api/v1/orders/${ids[next++ % ids.length]}/pay` }) },
        ],
      });
      if (result.errors > 0 || result.non2xx > 0)
        throw new Error(`payments ${name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
      results.push([name, result]);
    }
    const [, bare] = results[0]!;
    const baseline = { name: 'pay route without the gateway call', value: bare.latency.p99 };
    const figures: Figure[] = results.flatMap(([name, r]) => [
      figure('payments', `pay, ${name}`, r.requests.average, `req/s, p50 ${r.latency.p50} ms`),
      figure(
        'payments',
        `pay p99, ${name}`,
        r.latency.p99,
        'ms',
        name === results[0]![0] ? undefined : baseline,
      ),
    ]);
    // The gateway may add at most the route's budget (GATEWAY_TIMEOUT + 100ms) to the route's own p99.
    const added = Math.max(...results.slice(1).map(([, r]) => r.latency.p99 - bare.latency.p99));
    return {
      figures,
      targets: [
        target('payments', 'pay p99 minus the no-gateway p99, worst scenario <= 600 ms', added, 'max', 600),
      ],
    };
  } finally {
    await Promise.all(children.map(stopChild));
    await ctx.close();
  }
}
