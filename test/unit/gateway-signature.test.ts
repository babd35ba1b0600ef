import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signGatewayCallback, verifyGatewayCallback } from '../../src/lib/payments/signature.js';

const SECRET = 'shh';
const BODY = '{"transactionKey":"tx_1","paymentId":"p1","orderId":1,"amount":100,"status":"SUCCESS"}';
const NOW = 1_800_000_000;

describe('gateway callback signatures', () => {
  it('signs v1=<hex HMAC-SHA256(secret, timestamp.body)>', () => {
    const hex = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(signGatewayCallback(SECRET, NOW, BODY)).toBe(`v1=${hex}`);
  });

  it('verifies a fresh signature of the exact body', () => {
    const sig = signGatewayCallback(SECRET, NOW, BODY);
    expect(verifyGatewayCallback(SECRET, String(NOW), sig, BODY, { now: NOW + 10 })).toBe(true);
    // One of several signatures (secret rotation) is enough.
    expect(
      verifyGatewayCallback(SECRET, String(NOW), `v1=${'0'.repeat(64)}, ${sig}`, BODY, { now: NOW }),
    ).toBe(true);
  });

  it.each([
    ['another secret', 'other', String(NOW), undefined, BODY],
    ['a changed body', SECRET, String(NOW), undefined, BODY.replace('100', '1000')],
    ['a moved timestamp', SECRET, String(NOW + 1), undefined, BODY],
    ['a missing timestamp', SECRET, undefined, undefined, BODY],
    ['a timestamp that is not a number', SECRET, 'soon', undefined, BODY],
    ['a missing signature', SECRET, String(NOW), '', BODY],
    ['a signature of another scheme', SECRET, String(NOW), 'v0=abc', BODY],
    ['an empty secret', '', String(NOW), undefined, BODY],
  ])('refuses %s', (_what, secret, timestamp, signature, body) => {
    const sig = signature ?? signGatewayCallback(SECRET, NOW, BODY);
    expect(verifyGatewayCallback(secret, timestamp, sig, body, { now: NOW })).toBe(false);
  });

  it('refuses a stale or future timestamp (replay), within the tolerance only', () => {
    const sig = signGatewayCallback(SECRET, NOW, BODY);
    expect(verifyGatewayCallback(SECRET, String(NOW), sig, BODY, { now: NOW + 300 })).toBe(true);
    expect(verifyGatewayCallback(SECRET, String(NOW), sig, BODY, { now: NOW + 301 })).toBe(false);
    expect(verifyGatewayCallback(SECRET, String(NOW), sig, BODY, { now: NOW - 301 })).toBe(false);
    expect(verifyGatewayCallback(SECRET, String(NOW), sig, BODY, { now: NOW + 30, toleranceSec: 10 })).toBe(
      false,
    );
  });
});
