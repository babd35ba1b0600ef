import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import { readTopic } from '../support/topic-reader.js';
import { checkDelivery, insertEvents, viewEvents, countOutbox } from '../support/outbox-fixtures.js';
import { createLogger } from '../../src/lib/log.js';
import { startRelay, type Relay } from '../../src/jobs/relay/relay.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';

// This file stops and starts a broker: a private one on 19092/19093, never the shared 9092.
const SERVICES = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
const BROKER_ENV = {
  ...process.env,
  SERVICES_DIR: `/tmp/relay-broker-${randomBytes(4).toString('hex')}`,
  KAFKA_PORT: '19092',
  KAFKA_CONTROLLER_PORT: '19093',
};
const broker = (command: 'kafka-up' | 'kafka-down') =>
  promisify(execFile)('bash', [SERVICES, command], { env: BROKER_ENV, timeout: 120_000 });

describe('relay through a broker outage', () => {
  let ctx: TestContext;
  let relay: Relay | undefined;
  beforeAll(async () => {
    await broker('kafka-up');
    ctx = await createTestContext({ env: { KAFKA_BROKERS: '127.0.0.1:19092' } });
  });
  afterAll(async () => {
    // Each step runs even if an earlier one fails: the private broker must never be left running.
    await relay?.stop().catch(() => undefined);
    await ctx?.close().catch(() => undefined);
    await broker('kafka-down').catch(() => undefined);
    await rm(BROKER_ENV.SERVICES_DIR, { recursive: true, force: true });
  });

  const count = (where: string) => countOutbox(ctx.pool, where);

  it('pauses while the broker is down, then publishes everything without burning attempts', async () => {
    const before = viewEvents(20, 5);
    await insertEvents(ctx.pool, before, ctx.config.kafka.topics);
    relay = await startRelay({
      config: ctx.config,
      pool: ctx.pool,
      logger: createLogger((process.env.RELAY_TEST_LOG as 'info' | undefined) ?? 'silent'),
      options: parseRelayOptions({ maxAttempts: 2, retryBackoff: '50ms', pollInterval: '200ms' }),
    });
    await eventually(async () => (await count(`status = 'PENDING'`)) === 0, 30_000, 100);

    await broker('kafka-down');
    const during = viewEvents(20, 5, 1_000);
    await insertEvents(ctx.pool, during, ctx.config.kafka.topics);
    // The relay tries, finds the broker gone and pauses more than once: rows stay PENDING, untouched.
    await eventually(() => relay!.stats.pauses >= 2, 60_000, 200);
    expect(await count(`status = 'PUBLISHED' AND aggregate_id::int >= 1000`)).toBe(0);

    await broker('kafka-up');
    await eventually(async () => (await count(`status <> 'PUBLISHED'`)) === 0, 60_000, 200);
    expect(await count(`status = 'FAILED' OR attempt_count > 0`)).toBe(0);
    expect((await relay.stop()).failed).toBe(0);
    relay = undefined;

    const all = [...before, ...during];
    const delivery = checkDelivery(
      await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog),
      all.map((e) => e.eventId),
    );
    expect(delivery.missing).toEqual([]);
    expect(delivery.outOfOrder).toEqual([]);
  }, 150_000);
});
