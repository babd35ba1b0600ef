import type { AppConfig } from '../../../lib/config/config.js';
import { parseDuration } from '../../../lib/duration.js';
import { ConfigError, UsageError } from '../../../lib/errors.js';
import { EVENT_TYPES } from '../../../lib/events/index.js';

export interface WebhookOptions {
  url: string;
  /** Signs every request: `whsec_<base64>` (Standard Webhooks), or a plain secret whose UTF-8 bytes are the key. */
  secret: string;
  /** While a secret is rotated, the one before: requests carry a signature by each. */
  previousSecret?: string;
  /** The event types to send; null = all. */
  eventTypes: ReadonlySet<string> | null;
  /** Per request, from connecting to the response status. */
  timeoutMs: number;
  /** Requests in flight at once, across aggregates. */
  concurrency: number;
  /** Exponential backoff with full jitter between attempts of one event. */
  backoff: { baseMs: number; maxMs: number };
  /**
   * An event failing for this long makes delivery give up for now (ReceiverDownError): the collector
   * pauses the partition and tries again later. Unset: retry in place for as long as it takes.
   */
  pauseAfterMs?: number;
}

export const WEBHOOK_DEFAULTS = {
  timeoutMs: 5_000,
  concurrency: 8,
  backoff: { baseMs: 500, maxMs: 30_000 },
  pauseAfterMs: 30_000,
} as const;

/**
 * The sender's options from WEBHOOK_URL/WEBHOOK_SECRET (missing: ConfigError, exit 3),
 * WEBHOOK_SECRET_PREVIOUS (optional) and the
 * `collector run` flags `--webhook-events`, `--webhook-timeout`, `--webhook-concurrency` (bad: UsageError,
 * exit 2).
 */
export function parseWebhookOptions(
  webhook: AppConfig['webhook'],
  flags: { events?: string; timeout?: string; concurrency?: number } = {},
): WebhookOptions {
  if (!webhook.url) throw new ConfigError('WEBHOOK_URL must be set to run the webhook handler');
  if (!webhook.secret) throw new ConfigError('WEBHOOK_SECRET must be set to run the webhook handler');
  const concurrency = flags.concurrency ?? WEBHOOK_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
    throw new UsageError(`--webhook-concurrency must be an integer from 1 to 256, got ${concurrency}`);
  let timeoutMs: number = WEBHOOK_DEFAULTS.timeoutMs;
  if (flags.timeout !== undefined) {
    try {
      timeoutMs = parseDuration(flags.timeout);
    } catch (err) {
      throw new UsageError(`--webhook-timeout: ${(err as Error).message}`);
    }
  }
  return {
    url: webhook.url,
    secret: webhook.secret,
    ...(webhook.previousSecret ? { previousSecret: webhook.previousSecret } : {}),
    eventTypes: parseEventTypes(flags.events),
    timeoutMs,
    concurrency,
    backoff: { ...WEBHOOK_DEFAULTS.backoff },
    pauseAfterMs: WEBHOOK_DEFAULTS.pauseAfterMs,
  };
}

/** `--webhook-events OrderPaid,OrderCancelled`: known event types only; unset, empty or `all` = all. */
export function parseEventTypes(text: string | undefined): ReadonlySet<string> | null {
  if (text === undefined || text.trim() === '' || text.trim() === 'all') return null;
  const names = text.split(',').map((t) => t.trim());
  for (const name of names) {
    if (!(EVENT_TYPES as string[]).includes(name))
      throw new UsageError(
        `--webhook-events: unknown event type "${name}" (known: ${EVENT_TYPES.join(', ')})`,
      );
  }
  return new Set(names);
}
