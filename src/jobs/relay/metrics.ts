import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Queryable } from '../../lib/db/query.js';
import { oldestPendingAgeSeconds } from '../../lib/outbox/outlook.js';
import { STATE_GAUGE_HELP } from '../../lib/lifecycle.js';

export interface RelayMetrics {
  published: Counter;
  failed: Counter;
  retried: Counter;
  batchDuration: Histogram;
  state: Gauge<'state'>;
}

/** The relay's Prometheus metrics; the oldest pending age is read from PostgreSQL at scrape time. */
export function createRelayMetrics(registry: Registry, db: Queryable): RelayMetrics {
  const registers = [registry];
  new Gauge({
    name: 'relay_oldest_pending_age_seconds',
    help: 'Age of the oldest PENDING outbox row: how far behind the relay is.',
    registers,
    async collect() {
      const seconds = await oldestPendingAgeSeconds(db).catch(() => undefined);
      if (seconds !== undefined) this.set(seconds);
    },
  });
  return {
    published: new Counter({
      name: 'relay_published_total',
      help: 'Outbox events published to Kafka.',
      registers,
    }),
    failed: new Counter({
      name: 'relay_failed_total',
      help: 'Outbox events marked FAILED after their last attempt.',
      registers,
    }),
    retried: new Counter({
      name: 'relay_retried_total',
      help: 'Outbox events rejected by Kafka and scheduled for another attempt.',
      registers,
    }),
    batchDuration: new Histogram({
      name: 'relay_batch_duration_seconds',
      help: 'Time from claiming a batch to marking it.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    state: new Gauge({ name: 'relay_state', help: STATE_GAUGE_HELP, labelNames: ['state'], registers }),
  };
}
