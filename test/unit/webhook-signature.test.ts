import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_HEADERS, signWebhook, verifyWebhook } from '../../src/jobs/collector/webhook/signature.js';

const secret = 'whsec-unit-test-0123456789';
const body = JSON.stringify({ eventId: 'e1', eventType: 'OrderPaid', payload: { amount: 1200 } });
const now = 1_767_000_000;

function headers(timestamp: number, signature = signWebhook(secret, timestamp, body)) {
  return { [WEBHOOK_HEADERS.timestamp]: String(timestamp), [WEBHOOK_HEADERS.signature]: signature };
}

describe('signWebhook', () => {
  it('is v1= and the hex HMAC-SHA256 of "timestamp.body" (what a receiver recomputes)', () => {
    const hex = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    expect(signWebhook(secret, now, body)).toBe(`v1=${hex}`);
    expect(signWebhook(secret, now + 1, body)).not.toBe(`v1=${hex}`);
    expect(signWebhook('another-secret-0123456', now, body)).not.toBe(`v1=${hex}`);
  });
});

describe('verifyWebhook', () => {
  it('accepts a fresh, correctly signed request (header names in any case)', () => {
    expect(verifyWebhook(secret, headers(now), body, { now })).toBe(true);
    expect(verifyWebhook(secret, headers(now - 299), body, { now })).toBe(true);
    const upper = {
      'X-Commerce-Timestamp': String(now),
      'X-Commerce-Signature': signWebhook(secret, now, body),
    };
    expect(verifyWebhook(secret, upper, body, { now })).toBe(true);
  });

  it('refuses a tampered body, a wrong secret and a signature made for another timestamp', () => {
    expect(verifyWebhook(secret, headers(now), body.replace('1200', '1'), { now })).toBe(false);
    expect(verifyWebhook('wrong-secret-0123456789', headers(now), body, { now })).toBe(false);
    expect(verifyWebhook(secret, headers(now, signWebhook(secret, now - 10, body)), body, { now })).toBe(
      false,
    );
  });

  it('refuses stale and future timestamps beyond the tolerance', () => {
    expect(verifyWebhook(secret, headers(now - 301), body, { now })).toBe(false);
    expect(verifyWebhook(secret, headers(now + 301), body, { now })).toBe(false);
    expect(verifyWebhook(secret, headers(now - 3_000), body, { now, toleranceSec: 3_600 })).toBe(true);
    expect(verifyWebhook(secret, headers(now - 10), body, { now, toleranceSec: 5 })).toBe(false);
  });

  it('refuses missing or malformed headers', () => {
    expect(verifyWebhook(secret, {}, body, { now })).toBe(false);
    expect(
      verifyWebhook(secret, { [WEBHOOK_HEADERS.signature]: signWebhook(secret, now, body) }, body, { now }),
    ).toBe(false);
    expect(verifyWebhook(secret, headers(now, 'v1=00'), body, { now })).toBe(false);
    expect(verifyWebhook(secret, headers(now, signWebhook(secret, now, body).slice(3)), body, { now })).toBe(
      false,
    );
    expect(
      verifyWebhook(secret, { ...headers(now), [WEBHOOK_HEADERS.timestamp]: `${now}.5` }, body, { now }),
    ).toBe(false);
  });

  it('accepts any one of several signatures (secret rotation)', () => {
    const both = `${signWebhook('old-secret-0123456789', now, body)}, ${signWebhook(secret, now, body)}`;
    expect(verifyWebhook(secret, headers(now, both), body, { now })).toBe(true);
  });
});
