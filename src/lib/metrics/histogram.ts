import type { Metric, Registry } from 'prom-client';

interface ExposedValue {
  labels: object;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  exemplar?: null;
}

interface Exposed {
  name: string;
  help: string;
  type: string;
  values: ExposedValue[];
  aggregator: string;
}

/** One label set's counts: `counts[i]` observations in bucket i (the last one is +Inf). */
export interface HistogramChild {
  observe(value: number): void;
}

interface Series {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram for a hot path, exposed exactly as prom-client's Histogram is (`_bucket`
 * cumulative with `le`, `_sum`, `_count`). prom-client's observe() validates and hashes the label
 * set on every call (~0.6 us, once per API request); here a label set is resolved once (`child`) and
 * an observation is a few array writes, the cumulative counts being built when it is scraped.
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set (created at zero), to observe into without any lookup. */
  child(labels: Record<string, string>): HistogramChild {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const series = s;
    const bounds = this.buckets;
    return {
      observe(value: number) {
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        series.counts[i]!++;
        series.sum += value;
        series.count++;
      },
    };
  }

  /** What the registry's text exposition reads: prom-client's own shape (series labels as shared). */
  getForPromString(): Promise<Exposed> {
    const values: ExposedValue[] = [];
    const value = (metricName: string, labels: object, v: number, sharedLabels: Record<string, string>) =>
      values.push({ labels, sharedLabels, value: v, metricName, exemplar: null });
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) =>
        value(`${this.name}_bucket`, { le }, (cumulative += s.counts[i]!), s.labels),
      );
      value(`${this.name}_bucket`, { le: '+Inf' }, s.count, s.labels);
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, values, aggregator });
  }

  /** The JSON form (getMetricsAsJSON): labels and shared labels in one object, as prom-client's. */
  async get(): Promise<Exposed> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return data;
  }

  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
