import type { Registry } from 'prom-client';
import { EVENT_TOPICS, prefixedTopic, type AppConfig } from '../../lib/config/config.js';
import { UsageError } from '../../lib/errors.js';
import { createRegistry } from '../../lib/metrics/registry.js';
import { startMetricsServer } from '../../lib/metrics/server.js';
import { startCollector, type CollectorHandle } from './collector.js';
import type { HandlerName, WebhookStep } from './handlers.js';
import type { CollectorStats } from './metrics.js';
import type { CollectorDeps } from './options.js';
import { createWebhookStep } from './webhook-handler.js';
import { createWebhookMetrics } from './webhook/metrics.js';
import { parseWebhookOptions } from './webhook/options.js';
import { WebhookSender } from './webhook/sender.js';

/** What `collector run` is asked for, as its flags say it. */
export interface CollectorRunOptions {
  /** Event topic names without KAFKA_TOPIC_PREFIX (default: both event topics). */
  topics?: string[];
  handlers?: HandlerName[];
  maxAttempts: number;
  batchSize: number;
  sessionTimeoutMs?: number;
  /** The webhook handler's settings; refused unless `handlers` names it. */
  webhook: { events?: string; timeout?: string; concurrency?: number };
  /** Serve /metrics, /healthz and /readyz (200 only while in the group and consuming) here. */
  metricsPort?: number;
}

export type CollectorRunSummary = CollectorStats & { groupId: string; handlers: readonly string[] };

/**
 * `collector run`: consumes until `deps.signal` aborts (exit 0) or the consumer stays out of its group
 * through every replacement (`failed` rejects: exit 1), then stops and returns what it did.
 */
export async function runCollector(
  deps: CollectorDeps & { signal: AbortSignal },
  options: CollectorRunOptions,
): Promise<CollectorRunSummary> {
  const topics = options.topics && eventTopics(deps.config.kafka, options.topics);
  checkWebhookFlags(options);
  const registry = createRegistry({ service: 'collector' });
  const webhook = options.handlers?.includes('webhook')
    ? webhookDelivery(deps, registry, options)
    : undefined;
  webhook?.sender.start();
  const running: { collector?: CollectorHandle } = {};
  const server =
    options.metricsPort === undefined
      ? undefined
      : await startMetricsServer(registry, options.metricsPort, undefined, undefined, () =>
          Boolean(running.collector?.ready()),
        );
  try {
    const collector = await startCollector(deps, {
      topics,
      handlers: options.handlers,
      webhook: webhook?.step,
      maxAttempts: options.maxAttempts,
      batchSize: options.batchSize,
      sessionTimeoutMs: options.sessionTimeoutMs, // the collector defaults to 30s
      registry,
    });
    running.collector = collector;
    try {
      const aborted = new Promise<void>((resolve) =>
        deps.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      await Promise.race([aborted, collector.failed]);
    } finally {
      await collector.stop();
    }
    return { groupId: collector.groupId, handlers: collector.handlers, ...collector.stats };
  } finally {
    // The sender after the collector: the collector's last chunk may still be delivering.
    await webhook?.sender.stop();
    await server?.close();
  }
}

/** The line `collector run` prints when it stops. */
export function describeCollectorRun(s: CollectorRunSummary): string {
  return (
    `Collector stopped: ${s.consumed} event(s) applied, ${s.duplicates} duplicate(s) skipped, ` +
    `${s.deadLettered} dead-lettered, ${s.batches} batch(es).`
  );
}

/** Only the pipeline's event topics, prefixed like every topic of this deployment. */
function eventTopics(kafka: AppConfig['kafka'], names: string[]): string[] {
  const known: string[] = Object.values(EVENT_TOPICS);
  const unknown = names.find((n) => !known.includes(n));
  if (unknown !== undefined)
    throw new UsageError(
      `--topics: "${unknown}" is not an event topic (${known.join(', ')}; KAFKA_TOPIC_PREFIX is added)`,
    );
  return [...new Set(names)].map((n) => prefixedTopic(kafka, n));
}

function checkWebhookFlags(options: CollectorRunOptions): void {
  if (options.handlers?.includes('webhook')) return;
  const { webhook } = options;
  const given = (['events', 'timeout', 'concurrency'] as const).find((n) => webhook[n] !== undefined);
  if (given) throw new UsageError(`--webhook-${given} needs the webhook handler (--handlers ...,webhook)`);
}

/** The webhook handler's delivery: a sender to WEBHOOK_URL, its metrics on the collector's registry. */
function webhookDelivery(
  deps: CollectorDeps,
  registry: Registry,
  options: CollectorRunOptions,
): { sender: WebhookSender; step: WebhookStep } {
  const webhook = parseWebhookOptions(deps.config.webhook, options.webhook);
  const sender = new WebhookSender(webhook, deps.logger, createWebhookMetrics(registry));
  return { sender, step: createWebhookStep(deps.pool, sender, webhook.eventTypes) };
}
