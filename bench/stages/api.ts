import autocannon, { type Options, type Result } from 'autocannon';
import { createBenchContext } from '../lib/context.js';
import { firstJsonLine, spawnTs, stopChild } from '../lib/child.js';
import { seedProducts } from '../lib/seed.js';
import { figure, target, type Figure, type StageOptions, type StageResult } from '../lib/measure.js';

const PRODUCTS = 1_000;

/**
 * API: requests/s and latency under autocannon (20 connections) for a cached product detail and a
 * product list, against a minimal route on the same framework (order creation: the orders stage).
 * Each server runs in its own process, so the load generator does not share its event loop.
 */
export async function apiStage({ quick, log }: StageOptions): Promise<StageResult> {
  const duration = quick ? 3 : 10;
  const ctx = await createBenchContext();
  const api = spawnTs('./serve.ts', ['api'], ctx.env);
  const ping = spawnTs('./serve.ts', ['ping'], ctx.env);
  try {
    await seedProducts(ctx.pool, PRODUCTS);
    const [{ url: apiUrl }, { url: pingUrl }] = await Promise.all([
      firstJsonLine<{ url: string }>(api),
      firstJsonLine<{ url: string }>(ping),
    ]);
    const load = (name: string, options: Options) => {
      log(`api: ${name} for ${duration}s`);
      return run({ connections: 20, duration, ...options });
    };

    const bare = await load('minimal route', { url: `${pingUrl}/bench/ping` });
    await fetch(`${apiUrl}/api/v1/products/1`); // fills the cache
    const detail = await load('cached product detail', { url: `${apiUrl}/api/v1/products/1` });
    const list = await load('product list', { url: `${apiUrl}/api/v1/products?sort=latest&size=20` });
    const baseline = { name: 'minimal fastify route', value: bare.requests.average };
    const figures: Figure[] = [figure('api', 'minimal route', bare.requests.average, 'req/s')];
    const latency = (name: string, r: Result) =>
      figure('api', `${name} latency`, r.latency.p50, `ms p50, ${r.latency.p99} ms p99`);
    const rate = (name: string, r: Result) => figure('api', name, r.requests.average, 'req/s', baseline);
    const detailRate = rate('cached product detail', detail);
    figures.push(
      latency('minimal route', bare),
      detailRate,
      latency('cached product detail', detail),
      rate('product list', list),
      latency('product list', list),
    );
    return {
      figures,
      targets: [target('api', 'cached product detail / minimal route >= 0.5', detailRate.ratio!, 'min', 0.5)],
    };
  } finally {
    await Promise.all([stopChild(api), stopChild(ping)]);
    await ctx.close();
  }
}

/** One autocannon run; any error or non-2xx answer makes the figure meaningless, so it fails the stage. */
async function run(options: Options): Promise<Result> {
  const result = await autocannon(options);
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0)
    throw new Error(
      `${options.url}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`,
    );
  return result;
}
