import type { EachBatchPayload } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { publish } from '../support/collector.js';
import { eventually } from '../support/wait.js';
import { createEvent } from '../../src/lib/events/index.js';
import { createLogger } from '../../src/lib/log.js';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import {
  ConsumerSupervisor,
  type MembershipChange,
  type SupervisorLimits,
} from '../../src/lib/kafka/consumer-supervisor.js';

const LIMITS: SupervisorLimits = {
  idleMs: 4_000,
  maxRecreates: 2,
  backoff: { baseMs: 100, maxMs: 200 },
  leaveMs: 2_000,
};

/**
 * ConsumerSupervisor against the real broker: the kafkajs failures it exists for (a crash kafkajs does
 * not restart, kafkajs #1443/#1445; a consumer alive but consuming nothing, kafkajs #1513) end with a
 * new consumer that consumes, and repeated failure ends in `failed`.
 */
describe('ConsumerSupervisor', () => {
  let ctx: TestContext;
  const supervisors: ConsumerSupervisor[] = [];

  const supervise = (groupId: string, eachBatch: (payload: EachBatchPayload) => Promise<void>) => {
    const changes: MembershipChange[] = [];
    const supervisor = new ConsumerSupervisor({
      kafka: ctx.kafka,
      config: { groupId, sessionTimeout: 6_000, heartbeatInterval: 1_000 },
      topics: [ctx.config.kafka.topics.catalog],
      run: () => ({ autoCommit: true, eachBatch }),
      logger: createLogger('silent'),
      signal: new AbortController().signal,
      onMembership: (change) => void changes.push(change),
      limits: LIMITS,
    });
    supervisors.push(supervisor);
    return { supervisor, changes };
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    await publish(
      ctx,
      Array.from({ length: 9 }, (_, i) =>
        createEvent('ProductViewed', i + 1, 1, { productId: i + 1, count: 1 }),
      ),
    );
  });
  afterAll(async () => {
    for (const s of supervisors) await s.stop().catch(() => undefined);
    await ctx?.close();
  });

  it('replaces a consumer that kafkajs will not restart (a non-retriable crash)', async () => {
    let crashed = false;
    const offsets = new Set<string>();
    const { supervisor, changes } = supervise(`${ctx.id}-crash`, async ({ batch }) => {
      if (!crashed) {
        crashed = true;
        throw new TypeError('a bug in a handler'); // kafkajs: KafkaJSNonRetriableError, restart:false
      }
      for (const m of batch.messages) offsets.add(`${batch.partition}/${m.offset}`);
    });
    await supervisor.start();
    await eventually(() => offsets.size === 9, 30_000);
    expect(changes.filter((c) => !c.inGroup).length).toBeGreaterThan(0);
    expect(changes.at(-1)?.inGroup).toBe(true);
    // stop(), called twice at once, resolves for both only once the consumer has left the group.
    await Promise.all([supervisor.stop(), supervisor.stop()]);
    const { groups } = await withAdmin(ctx.kafka, (admin) => admin.describeGroups([`${ctx.id}-crash`]));
    expect(groups[0]!.members).toEqual([]);
  }, 60_000);

  it('replaces a consumer whose batch hangs (alive, consuming nothing), abandoning it', async () => {
    let release!: () => void;
    const hung = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const offsets = new Set<string>();
    const { supervisor } = supervise(`${ctx.id}-hang`, async ({ batch }) => {
      if (first) {
        first = false;
        await hung; // no heartbeat, no fetch: kafkajs notices nothing
        return;
      }
      for (const m of batch.messages) offsets.add(`${batch.partition}/${m.offset}`);
    });
    await supervisor.start();
    try {
      // The new consumer gets every partition once the abandoned member's session expired.
      await eventually(() => offsets.size === 9, 45_000);
    } finally {
      release();
    }
  }, 60_000);

  it('gives up (failed rejects) when every replacement fails the same way', async () => {
    const { supervisor } = supervise(`${ctx.id}-fail`, async () => {
      throw new TypeError('always');
    });
    await supervisor.start(); // joins, then every consumer crashes on its first batch
    await expect(supervisor.failed).rejects.toThrow(/out of its group after 2 replacements.*always/);
  }, 60_000);
});
