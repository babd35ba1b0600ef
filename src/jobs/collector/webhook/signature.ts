import { createHmac, timingSafeEqual } from 'node:crypto';

/** The headers of every webhook request (lower case, as Node's http server presents them). */
export const WEBHOOK_HEADERS = {
  eventId: 'x-commerce-event-id',
  eventType: 'x-commerce-event-type',
  timestamp: 'x-commerce-timestamp',
  signature: 'x-commerce-signature',
} as const;

/** How old (or how far in the future) a signed timestamp may be before verifyWebhook refuses it. */
export const DEFAULT_TOLERANCE_SEC = 300;

const SCHEME = 'v1=';

/**
 * The signature header value: `v1=` + hex HMAC-SHA256 of `${timestamp}.${body}` keyed by the secret.
 * Signing the timestamp with the body lets a receiver refuse replays of an old request.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return SCHEME + createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/**
 * A receiver's check: the signature header (one or more comma-separated `v1=<hex>`, so a secret can be
 * rotated) matches the body and timestamp, compared in constant time, and the timestamp is within
 * `toleranceSec` (default 300) of `now` (unix seconds). `body` must be the raw request body.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  opts: { toleranceSec?: number; now?: number } = {},
): boolean {
  const timestampText = header(headers, WEBHOOK_HEADERS.timestamp);
  const signatures = header(headers, WEBHOOK_HEADERS.signature);
  if (!timestampText || !signatures || !/^\d{1,12}$/.test(timestampText)) return false;
  const timestamp = Number(timestampText);
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body), 'utf8');
  let match = false;
  for (const candidate of signatures.split(',')) {
    const given = Buffer.from(candidate.trim(), 'utf8');
    // Every candidate is compared (no early exit), each in constant time.
    if (given.length === expected.length && timingSafeEqual(given, expected)) match = true;
  }
  return match;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  return Array.isArray(value) ? value.join(',') : value;
}
