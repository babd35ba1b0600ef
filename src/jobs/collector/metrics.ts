import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { STATE_GAUGE_HELP } from '../../lib/lifecycle.js';
import type { DeadLetterInfo } from '../../lib/kafka/dead-letter.js';

/**
 * The collector's Prometheus metrics, on the registry the caller serves (or a private one). The
 * per-topic counters start at 0 for the subscribed topics: increase() over a counter that appears with
 * its first dead letter would miss that dead letter, and the alert with it.
 */
export function createCollectorMetrics(registry: Registry, topics: readonly string[] = []) {
  const metrics = defineCollectorMetrics(registry);
  for (const topic of topics) {
    metrics.consumed.inc({ topic }, 0);
    metrics.duplicates.inc({ topic }, 0);
    for (const kind of DEAD_LETTER_KINDS) metrics.deadLettered.inc({ topic, kind }, 0);
    metrics.held.inc({ topic }, 0);
  }
  return metrics;
}

const DEAD_LETTER_KINDS = ['poison', 'failed'] as const satisfies readonly DeadLetterInfo['errorKind'][];

function defineCollectorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    consumed: new Counter({
      name: 'collector_events_consumed_total',
      help: 'Events whose effects were applied (new events).',
      labelNames: ['topic'],
      registers,
    }),
    duplicates: new Counter({
      name: 'collector_duplicates_skipped_total',
      help: 'Events skipped because they were handled before (redeliveries).',
      labelNames: ['topic'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'collector_dead_lettered_total',
      help: 'Messages sent to the dead-letter topic.',
      labelNames: ['topic', 'kind'],
      registers,
    }),
    held: new Counter({
      name: 'collector_held_unknown_version_total',
      help: 'Times a partition was held at an event of a schema version this collector does not know (upgrade it).',
      labelNames: ['topic'],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'collector_batch_duration_seconds',
      help: 'Time from receiving a batch to committing its offset.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    lag: new Gauge({
      name: 'collector_lag_messages',
      help: 'Messages behind the high watermark after the last batch, per partition.',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    state: new Gauge({ name: 'collector_state', help: STATE_GAUGE_HELP, labelNames: ['state'], registers }),
  };
}

export type CollectorMetrics = ReturnType<typeof createCollectorMetrics>;

/** Live counters for in-process callers (tests, `commerce dev`) and the final summary. */
export interface CollectorStats {
  consumed: number;
  duplicates: number;
  deadLettered: number;
  batches: number;
}
