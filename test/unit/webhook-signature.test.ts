import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { webhookSigner } from '../../src/jobs/collector/webhook/signature.js';
import { loadConfig } from '../../src/lib/config/load.js';

const key = Buffer.from('0123456789abcdef0123456789abcdef');
const secret = `whsec_${key.toString('base64')}`;
const body = JSON.stringify({ id: 'e1', type: 'commerce.OrderPaid', data: { amount: 1200 } });
const id = '5b0c7a52-8a4e-4a43-9d2c-0a4f1d7b4e11';
const now = Math.floor(Date.now() / 1000);

const hmac = (k: Buffer, ts: number) =>
  `v1,${createHmac('sha256', k).update(`${id}.${ts}.${body}`).digest('base64')}`;
const headers = (ts: number, signature: string) => ({
  'webhook-id': id,
  'webhook-timestamp': String(ts),
  'webhook-signature': signature,
});

describe('webhookSigner (Standard Webhooks)', () => {
  it('is v1, + the base64 HMAC-SHA256 of "id.timestamp.body" keyed by the whsec_ key', () => {
    expect(webhookSigner([secret])(id, now, body)).toBe(hmac(key, now));
  });

  it("a plain secret's key is its UTF-8 bytes: receivers verify with whsec_ + its base64", () => {
    const plain = 'a-plain-secret-of-some-length';
    const signature = webhookSigner([plain])(id, now, body);
    expect(signature).toBe(hmac(Buffer.from(plain), now));
    const whsec = `whsec_${Buffer.from(plain).toString('base64')}`;
    expect(() => new Webhook(whsec).verify(body, headers(now, signature))).not.toThrow();
  });

  it('with two secrets (rotation) sends both signatures, space-separated: either secret verifies', () => {
    const previous = `whsec_${Buffer.from('the-previous-key-0123456789').toString('base64')}`;
    const signature = webhookSigner([secret, previous])(id, now, body);
    expect(signature.split(' ')).toHaveLength(2);
    for (const s of [secret, previous])
      expect(new Webhook(s).verify(body, headers(now, signature))).toEqual(JSON.parse(body));
    const other = `whsec_${Buffer.from('some-other-key-0123456789').toString('base64')}`;
    expect(() => new Webhook(other).verify(body, headers(now, signature))).toThrow(/signature/);
  });
});

describe('WEBHOOK_SECRET / WEBHOOK_SECRET_PREVIOUS', () => {
  it('accept whsec_ secrets and plain secrets of 16+ characters; refuse a malformed whsec_', () => {
    expect(
      loadConfig({ WEBHOOK_SECRET: secret, WEBHOOK_SECRET_PREVIOUS: 'a-plain-secret-0123' }).webhook,
    ).toEqual({ url: undefined, secret, previousSecret: 'a-plain-secret-0123' });
    expect(() => loadConfig({ WEBHOOK_SECRET: 'whsec_not base64!' })).toThrow(/WEBHOOK_SECRET/);
    expect(() => loadConfig({ WEBHOOK_SECRET: `whsec_${Buffer.from('short').toString('base64')}` })).toThrow(
      /WEBHOOK_SECRET/,
    );
    expect(() => loadConfig({ WEBHOOK_SECRET_PREVIOUS: 'short' })).toThrow(/WEBHOOK_SECRET_PREVIOUS/);
  });
});
