import { describe, expect, it } from 'vitest';
import { parseDurationRange, parseRate, pick } from '../../src/gateway/options.js';
import { createDraw } from '../../src/gateway/random.js';
import { loadConfig } from '../../src/lib/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import {
  gatewayClientOptions,
  maxCallDurationMs,
  paymentCallbackUrl,
} from '../../src/lib/payments/options.js';

describe('gateway simulator options', () => {
  it.each([
    ['50ms', { minMs: 50, maxMs: 50 }],
    ['0ms', { minMs: 0, maxMs: 0 }],
    ['2s', { minMs: 2000, maxMs: 2000 }],
    ['20ms-200ms', { minMs: 20, maxMs: 200 }],
    ['1s-3s', { minMs: 1000, maxMs: 3000 }],
    ['500ms-1m', { minMs: 500, maxMs: 60_000 }],
  ])('parses the duration range %s', (text, range) => {
    expect(parseDurationRange(text)).toEqual(range);
  });

  it.each(['', 'fast', '50', '-50ms', '1s-', '1s-2s-3s', '3s-1s', '2h', '1.5s'])(
    'refuses the range "%s"',
    (text) => {
      expect(() => parseDurationRange(text)).toThrow(/duration|range|hour/);
    },
  );

  it.each([
    ['0', 0],
    ['1', 1],
    ['0.3', 0.3],
  ])('parses the rate %s', (text, rate) => {
    expect(parseRate(text)).toBe(rate);
  });

  it.each(['', '-0.1', '1.01', 'half', 'NaN', 'Infinity'])('refuses the rate "%s"', (text) => {
    expect(() => parseRate(text)).toThrow(/rate/);
  });

  it('picks within the range', () => {
    const range = { minMs: 20, maxMs: 200 };
    expect(pick(range, 0)).toBe(20);
    expect(pick(range, 0.5)).toBe(110);
    expect(pick(range, 0.999999)).toBe(200);
  });

  it('draws reproducibly from a seed, whatever the order of the draws', () => {
    const a = createDraw('seed');
    const b = createDraw('seed');
    const keys = Array.from({ length: 50 }, (_, i) => ['fail', 'pay', `p${i}`, 1] as const);
    const first = keys.map((k) => a(...k));
    const reversed = [...keys]
      .reverse()
      .map((k) => b(...k))
      .reverse();
    expect(reversed).toEqual(first);
    expect(first.every((r) => r >= 0 && r < 1)).toBe(true);
    expect(keys.map((k) => createDraw('other')(...k))).not.toEqual(first);
    // Roughly uniform: the mean of 50 draws is far from either end.
    const mean = first.reduce((s, r) => s + r, 0) / first.length;
    expect(mean).toBeGreaterThan(0.3);
    expect(mean).toBeLessThan(0.7);
  });
});

describe('gateway client configuration', () => {
  it('has defaults and derives the callback URL from the API address', () => {
    const config = loadConfig({});
    expect(config.gateway).toEqual({
      url: 'http://127.0.0.1:8090',
      secret: '',
      timeoutMs: 1000,
      breakerHalfOpenMs: 10_000,
      callbackUrl: undefined,
    });
    expect(gatewayClientOptions(config, 'http://cb').breaker.halfOpenAfterMs).toBe(10_000);
    expect(paymentCallbackUrl(config)).toBe('http://127.0.0.1:8080/api/v1/payments/callback');
    expect(paymentCallbackUrl(loadConfig({ API_HOST: '0.0.0.0', API_PORT: '9000' }))).toBe(
      'http://127.0.0.1:9000/api/v1/payments/callback',
    );
    expect(paymentCallbackUrl(config, 'http://0.0.0.0:4321')).toBe(
      'http://127.0.0.1:4321/api/v1/payments/callback',
    );
    expect(paymentCallbackUrl(config, 'http://127.0.0.1:4321')).toBe(
      'http://127.0.0.1:4321/api/v1/payments/callback',
    );
    const explicit = loadConfig({ PAYMENT_CALLBACK_URL: 'https://shop.example/api/v1/payments/callback' });
    expect(paymentCallbackUrl(explicit, 'http://127.0.0.1:4321')).toBe(
      'https://shop.example/api/v1/payments/callback',
    );
  });

  it('reads GATEWAY_URL, GATEWAY_SECRET and GATEWAY_TIMEOUT', () => {
    const config = loadConfig({ GATEWAY_URL: 'http://gw:9/', GATEWAY_SECRET: 's', GATEWAY_TIMEOUT: '250ms' });
    expect(config.gateway).toMatchObject({ url: 'http://gw:9', secret: 's', timeoutMs: 250 });
    const options = gatewayClientOptions(config, 'http://cb');
    expect(options).toMatchObject({ url: 'http://gw:9', callbackUrl: 'http://cb', timeoutMs: 250 });
    expect(maxCallDurationMs(options)).toBe(options.retry.attempts * (250 + options.retry.maxMs));
  });

  it('reads GATEWAY_BREAKER_HALF_OPEN (tests shorten it instead of waiting 10 s)', () => {
    const config = loadConfig({ GATEWAY_BREAKER_HALF_OPEN: '300ms' });
    expect(config.gateway.breakerHalfOpenMs).toBe(300);
    expect(gatewayClientOptions(config, 'http://cb').breaker.halfOpenAfterMs).toBe(300);
  });

  it.each([
    ['GATEWAY_URL', 'gw:9', /GATEWAY_URL.*http/],
    ['GATEWAY_BREAKER_HALF_OPEN', 'later', /GATEWAY_BREAKER_HALF_OPEN/],
    ['GATEWAY_TIMEOUT', 'soon', /GATEWAY_TIMEOUT/],
    ['GATEWAY_TIMEOUT', '0s', /GATEWAY_TIMEOUT/],
    ['PAYMENT_CALLBACK_URL', '/callback', /PAYMENT_CALLBACK_URL/],
  ])('rejects %s=%s naming the variable', (name, value, pattern) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(pattern);
  });
});
