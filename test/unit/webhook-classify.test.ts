import { describe, expect, it } from 'vitest';
import { attemptKind, retryAfterMs, unreachableReason } from '../../src/jobs/collector/webhook/classify.js';
import {
  parseEventTypes,
  parseWebhookOptions,
  WEBHOOK_DEFAULTS,
} from '../../src/jobs/collector/webhook/options.js';
import { Semaphore } from '../../src/jobs/collector/webhook/semaphore.js';
import { ConfigError, UsageError } from '../../src/lib/errors.js';

const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });
const withCode = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('attemptKind', () => {
  it.each([200, 201, 202, 204, 299])('%i is delivered', (s) => expect(attemptKind(s)).toBe('ok'));
  it.each([408, 429, 500, 502, 503, 504, 599])('%i is retried (unavailable)', (s) =>
    expect(attemptKind(s)).toBe('unavailable'),
  );
  it.each([400, 401, 403, 404, 405, 409, 410, 413, 422, 301, 302, 307, 100])('%i is rejected', (s) =>
    expect(attemptKind(s)).toBe('rejected'),
  );
});

describe('unreachableReason', () => {
  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
  ])('a fetch failure caused by %s is retried, named by its code', (code) =>
    expect(unreachableReason(fetchFailed(withCode(code)))).toBe(code),
  );

  it('a request timeout is retried', () => {
    expect(unreachableReason(new DOMException('timed out', 'TimeoutError'))).toBe('timeout');
  });

  it('a failure on several addresses is named by the first', () => {
    const cause = new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'all failed');
    expect(unreachableReason(fetchFailed(cause))).toBe('ECONNREFUSED');
  });

  it('anything that is not a network failure is not retried (a bug, rethrown)', () => {
    expect(unreachableReason(new TypeError('Invalid header value'))).toBeUndefined();
    expect(unreachableReason(new DOMException('aborted', 'AbortError'))).toBeUndefined();
    expect(unreachableReason(new RangeError('x'))).toBeUndefined();
    expect(unreachableReason('text')).toBeUndefined();
    // A usage error of ours under fetch's TypeError (a bad URL) is a bug, never retried forever.
    const badUrl = Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' });
    expect(unreachableReason(new TypeError('Failed to parse URL', { cause: badUrl }))).toBeUndefined();
    expect(unreachableReason(fetchFailed(withCode('ERR_TLS_CERT_ALTNAME_INVALID')))).toBe(
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, ignores nonsense', () => {
    expect(retryAfterMs('3')).toBe(3_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });
});

describe('parseWebhookOptions', () => {
  const webhook = { url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16-chars' };
  it('has defaults and reads the flags', () => {
    expect(parseWebhookOptions(webhook)).toEqual({ ...webhook, eventTypes: null, ...WEBHOOK_DEFAULTS });
    const o = parseWebhookOptions(webhook, {
      events: 'OrderPaid, OrderCancelled',
      timeout: '2s',
      concurrency: 3,
    });
    expect([...(o.eventTypes ?? [])]).toEqual(['OrderPaid', 'OrderCancelled']);
    expect(o.timeoutMs).toBe(2_000);
    expect(o.concurrency).toBe(3);
  });
  it('names the missing variable (exit 3) and the bad flag (exit 2)', () => {
    expect(() => parseWebhookOptions({ ...webhook, url: undefined })).toThrow(ConfigError);
    expect(() => parseWebhookOptions({ ...webhook, url: undefined })).toThrow(/WEBHOOK_URL/);
    expect(() => parseWebhookOptions({ ...webhook, secret: undefined })).toThrow(/WEBHOOK_SECRET/);
    expect(() => parseWebhookOptions(webhook, { concurrency: 0 })).toThrow(/--webhook-concurrency/);
    expect(() => parseWebhookOptions(webhook, { timeout: '5' })).toThrow(/--webhook-timeout/);
    expect(() => parseEventTypes('OrderPaid,OrderShipped')).toThrow(UsageError);
    expect(() => parseEventTypes('OrderPaid,OrderShipped')).toThrow(/--webhook-events.*OrderShipped/);
    expect(parseEventTypes('all')).toBeNull();
  });
});

describe('Semaphore', () => {
  it('grants at most size slots, in order, and drops waiters whose signal aborts', async () => {
    const s = new Semaphore(2);
    const signal = new AbortController().signal;
    const a = await s.acquire(signal);
    await s.acquire(signal);
    const order: string[] = [];
    const aborting = new AbortController();
    const dropped = s.acquire(aborting.signal).then(
      () => order.push('dropped got a slot'),
      (e: unknown) => order.push(`dropped: ${String(e)}`),
    );
    const c = s.acquire(signal).then((release) => (order.push('c'), release));
    aborting.abort('stop');
    await dropped;
    a();
    a(); // a second release of the same slot changes nothing
    (await c)();
    expect(order).toEqual(['dropped: stop', 'c']);
    // Two slots were released (a, c) and one is still held: one more can be taken at once, not two.
    await s.acquire(signal);
    let extra = false;
    void s.acquire(signal).then(() => (extra = true));
    await new Promise((r) => setImmediate(r));
    expect(extra).toBe(false);
  });
});
