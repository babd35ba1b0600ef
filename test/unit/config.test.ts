import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';

describe('loadConfig', () => {
  it('has working defaults for a local machine', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.topics).toEqual({ catalog: 'catalog-events', order: 'order-events' });
    expect(config.timezone).toBe('UTC');
  });

  it('lets flags override the environment and prefixes topics', () => {
    const config = loadConfig(
      { KAFKA_BROKERS: 'a:1', KAFKA_TOPIC_PREFIX: 'dev-' },
      { KAFKA_BROKERS: 'b:2,c:3' },
    );
    expect(config.kafka.brokers).toEqual(['b:2', 'c:3']);
    expect(config.kafka.topics.order).toBe('dev-order-events');
  });

  it.each([
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL.*postgres/],
    ['KAFKA_BROKERS', 'localhost', /KAFKA_BROKERS.*host:port/],
    ['API_PORT', '70000', /API_PORT/],
    ['DATABASE_POOL_MAX', 'lots', /DATABASE_POOL_MAX/],
    ['TIMEZONE', 'Mars/Base', /TIMEZONE.*IANA/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['RANKING_WEIGHT_VIEW', '-1', /RANKING_WEIGHT_VIEW/],
    ['EVENT_HANDLED_RETENTION', 'forever', /EVENT_HANDLED_RETENTION/],
    ['WEBHOOK_URL', 'ftp://receiver/hook', /WEBHOOK_URL.*http/],
    ['WEBHOOK_SECRET', 'short', /WEBHOOK_SECRET.*16/],
    ['ORDER_PAYMENT_TTL', 'soon', /ORDER_PAYMENT_TTL/],
    ['ORDER_PAYMENT_TTL', '500ms', /ORDER_PAYMENT_TTL.*at least 1s/],
    ['POINTS_RATE', '1%', /POINTS_RATE.*fraction/],
    ['POINTS_RATE', '1.5', /POINTS_RATE/],
    ['POINTS_RATE', '-0.01', /POINTS_RATE/],
    ['POINTS_RATE', '0.00001', /POINTS_RATE.*4 decimals/],
  ])('rejects %s=%s naming the variable', (name, value, pattern) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(pattern);
  });

  it('reads the webhook receiver and secret, unset by default', () => {
    expect(loadConfig({}).webhook).toEqual({ url: undefined, secret: undefined });
    const env = {
      WEBHOOK_URL: 'https://hooks.example.com/commerce?x=1',
      WEBHOOK_SECRET: 'a-secret-of-16-chars',
    };
    expect(loadConfig(env).webhook).toEqual({ url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET });
  });

  it('reads the payment window, 30 minutes by default', () => {
    expect(loadConfig({}).orders.paymentTtlMs).toBe(30 * 60_000);
    expect(loadConfig({ ORDER_PAYMENT_TTL: '90s' }).orders.paymentTtlMs).toBe(90_000);
  });

  it('reads the points rate as basis points, 1% by default', () => {
    expect(loadConfig({}).points.rateBasisPoints).toBe(100);
    expect(loadConfig({ POINTS_RATE: '0.0725' }).points.rateBasisPoints).toBe(725);
    expect(loadConfig({ POINTS_RATE: '0.29' }).points.rateBasisPoints).toBe(2900);
    expect(loadConfig({ POINTS_RATE: '1' }).points.rateBasisPoints).toBe(10_000);
    expect(loadConfig({ POINTS_RATE: '0' }).points.rateBasisPoints).toBe(0);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ API_PORT: '' }).api.port).toBe(8080);
  });
});
