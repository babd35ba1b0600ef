import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { readTopic } from '../support/topic-reader.js';
import { insertEvents, viewEvents } from '../support/outbox-fixtures.js';
import { createLogger } from '../../src/lib/log.js';
import { createKafka } from '../../src/lib/kafka/client.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import { EVENT_HEADERS } from '../../src/lib/kafka/event-headers.js';
import { RelayPipeline } from '../../src/jobs/relay/pipeline.js';
import { Publisher } from '../../src/jobs/relay/publisher.js';
import { emptyStats, type BatchPublisher } from '../../src/jobs/relay/cycle.js';
import { createRelayMetrics } from '../../src/jobs/relay/metrics.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';
import { sendBudget } from '../../src/jobs/relay/send-budget.js';
import type { RenewLease } from '../../src/jobs/relay/batch.js';

const logger = createLogger('silent', { pretty: false });

describe('relay lease renewal before a send', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('never sends rows whose lease another relay took while the batch waited, nor their aggregates’ later rows', async () => {
    // Products 1..3, versions 1..3: product 1 loses only v1 (a takeover claim cut by LIMIT), product 2
    // loses everything, product 3 keeps its lease.
    const events = viewEvents(3, 3, 1);
    await insertEvents(ctx.pool, events, ctx.config.kafka.topics);
    const options = parseRelayOptions({ batchSize: 100, relayId: 'relay-late' });
    const budget = sendBudget(options.leaseMs);
    const real = new Publisher(createKafka(ctx.config.kafka, logger, budget), logger, budget.retry);
    // The batch was claimed, then waited past its lease (behind a slow send): another relay took it
    // over just before our send starts.
    const publisher: BatchPublisher = {
      async publish(batch: ClaimedEvent[], renew: RenewLease) {
        await ctx.pool.query(
          `UPDATE outbox_event SET locked_by = 'relay-other'
            WHERE aggregate_id = '2' OR (aggregate_id = '1' AND aggregate_version = 1)`,
        );
        return real.publish(batch, renew);
      },
    };
    const stats = emptyStats();
    const pipeline = new RelayPipeline({
      db: ctx.pool,
      publisher,
      options,
      stats,
      metrics: createRelayMetrics(new Registry(), ctx.pool),
      logger,
      signal: new AbortController().signal,
    });
    try {
      expect(await pipeline.step()).toMatchObject({ claimed: 9 });
      await pipeline.finish();
    } finally {
      await real.reset();
    }

    expect(stats).toMatchObject({ published: 3, lost: 4, released: 2, failed: 0, retried: 0 });
    const messages = await readTopic(ctx.kafka, ctx.config.kafka.topics.catalog);
    const sent = messages.map((m) => `${m.key}:v${m.headers[EVENT_HEADERS.version]}`).sort();
    expect(sent).toEqual(['3:v1', '3:v2', '3:v3']);
    const { rows: state } = await ctx.pool.query<{
      product: string;
      v: number;
      status: string;
      owner: string;
    }>(
      `SELECT aggregate_id AS product, aggregate_version AS v, status, coalesce(locked_by, '-') AS owner
         FROM outbox_event WHERE aggregate_id <> '3' ORDER BY aggregate_id, aggregate_version`,
    );
    expect(state.map((r) => `${r.product}:v${r.v} ${r.status} ${r.owner}`)).toEqual([
      '1:v1 PENDING relay-other', // the new owner's
      '1:v2 PENDING -', // released, not sent ahead of v1
      '1:v3 PENDING -',
      '2:v1 PENDING relay-other',
      '2:v2 PENDING relay-other',
      '2:v3 PENDING relay-other',
    ]);
  });

  it('rejects a lease too short for a bounded send: exit 2 naming the minimum', async () => {
    const short = await runCli(['relay', 'run', '--once', '--lease', '1s'], ctx.env);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--lease must be at least 2s/);
  });
});
