import { Counter, Histogram, type Registry } from 'prom-client';

/** The webhook sender's Prometheus metrics, on the registry the caller serves (or a private one). */
export function createWebhookMetrics(registry: Registry) {
  const registers = [registry];
  return {
    /** delivered / rejected per event; retried per failed attempt that will be tried again. */
    deliveries: new Counter({
      name: 'commerce_webhook_deliveries_total',
      help: 'Webhook attempts by outcome: delivered (2xx), rejected (dead letter), retried.',
      labelNames: ['outcome'],
      registers,
    }),
    /** One observation per HTTP attempt: the receiver's latency, timeouts included. */
    duration: new Histogram({
      name: 'commerce_webhook_delivery_duration_seconds',
      help: 'Time of one webhook request, from sending to the response status (or failure).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
