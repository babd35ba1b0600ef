import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../../src/lib/metrics/histogram.js';

/** FastHistogram must read exactly as prom-client's Histogram: dashboards and rules query both alike. */
describe('FastHistogram', () => {
  const buckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const observations: [Record<string, string>, number][] = [
    [{ method: 'GET', route: '/a/:id', status: '200' }, 0.0004],
    [{ method: 'GET', route: '/a/:id', status: '200' }, 0.002],
    [{ method: 'GET', route: '/a/:id', status: '200' }, 0.0031],
    [{ method: 'GET', route: '/a/:id', status: '200' }, 7],
    [{ status: '404', method: 'GET', route: 'unmatched' }, 0.3],
    [{ method: 'GET', route: 'unmatched', status: '404' }, 2.5],
  ];

  it('exposes the same text as prom-client for the same observations, default labels included', async () => {
    const reference = new Registry();
    reference.setDefaultLabels({ service: 'api' });
    const slow = new Histogram({
      name: 'h_seconds',
      help: 'latency',
      labelNames: ['method', 'route', 'status'],
      buckets,
      registers: [reference],
    });
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'api' });
    const fast = new FastHistogram('h_seconds', 'latency', buckets, registry);
    for (const [labels, value] of observations) {
      slow.observe(labels, value);
      fast.child(labels).observe(value);
    }
    expect(await registry.metrics()).toBe(await reference.metrics());
    expect(await registry.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it('one child per label set, whatever the key order; reset zeroes the series', async () => {
    const registry = new Registry();
    const fast = new FastHistogram('h', 'h', [1], registry);
    fast.child({ a: '1', b: '2' }).observe(0.5);
    fast.child({ b: '2', a: '1' }).observe(2);
    const text = await registry.metrics();
    expect(text).toContain('h_bucket{le="1",a="1",b="2"} 1');
    expect(text).toContain('h_count{a="1",b="2"} 2');
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('h_count{a="1",b="2"} 0');
  });
});
