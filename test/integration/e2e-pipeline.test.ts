import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { startCli, stopCli, waitForOutput } from '../support/cli.js';
import { readTopic } from '../support/topic-reader.js';
import { rows, sql } from '../../src/lib/db/query.js';
import { apiClient } from '../../src/jobs/demo/http.js';
import { seedCatalog } from '../../src/jobs/demo/seed.js';
import { runTraffic } from '../../src/jobs/demo/traffic.js';
import { waitForCatchUp } from '../../src/jobs/demo/catch-up.js';
import { compareMetrics } from '../../src/jobs/demo/verify.js';

const ADMIN_TOKEN = 'e2e-admin-token';

/** Starts a long-running CLI command and waits for its ready line; returns the process and that line. */
async function start(args: string[], env: Record<string, string>, ready: RegExp) {
  const child = startCli(args, env);
  const line = await waitForOutput(child, ready, 45_000);
  return { child, line };
}

describe('the whole pipeline as separate OS processes, with a relay and a collector SIGKILLed midway', () => {
  let ctx: TestContext;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
  });

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await ctx?.close();
  });

  it('publishes every outbox event and lands metrics equal to what the traffic implies', async () => {
    const env = { ...ctx.env, ADMIN_TOKEN, LOG_LEVEL: 'info' };
    const api = await start(['api', 'serve', '--port', '0'], env, /listening on http:\/\/127\.0\.0\.1:\d+/);
    const url = api.line.replace('listening on ', '');
    const relays = await Promise.all(
      [1, 2].map(() => start(['relay', 'run', '--lease', '3s', '--batch-size', '20'], env, /relay running/)),
    );
    const collectors: Array<Awaited<ReturnType<typeof start>>> = [];
    for (let i = 0; i < 2; i++) {
      // One after the other: both join the same group, then share its partitions.
      collectors.push(
        await start(
          ['collector', 'run', '--session-timeout', '6s', '--batch-size', '10'],
          env,
          /collector running/,
        ),
      );
    }
    children.push(api.child, ...relays.map((r) => r.child), ...collectors.map((c) => c.child));

    const client = apiClient(url, ADMIN_TOKEN);
    const seed = await seedCatalog(client, 12);
    let killed = false;
    const ledger = await runTraffic({
      client,
      products: seed.products,
      users: 8,
      orders: 120,
      concurrency: 6,
      userPrefix: 'e2e-',
      onProgress: (sent) => {
        if (sent === 50 && !killed) {
          killed = true;
          relays[0]!.child.kill('SIGKILL');
          collectors[0]!.child.kill('SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect(ledger.unexpected).toEqual([]);
    expect(ledger.counts.orders).toBeGreaterThan(0);
    expect(await stopCli(api.child)).toBe(0); // flushes the buffered views into the outbox

    const consumer = ctx.config.kafka.groupId;
    const progress = await waitForCatchUp({ pool: ctx.pool, watermark: '0', timeoutMs: 75_000 });
    expect(progress).toMatchObject({
      pending: 0,
      failed: 0,
      published: progress.written,
      consumed: progress.written,
    });

    const outbox = await rows<{ event_id: string }>(
      ctx.pool,
      sql('e2e.outbox', 'SELECT event_id FROM outbox_event'),
    );
    const onTopics = new Set<string>();
    for (const topic of Object.values(ctx.config.kafka.topics)) {
      for (const m of await readTopic(ctx.kafka, topic)) onTopics.add(m.headers['event-id']!);
    }
    expect(outbox.filter((o) => !onTopics.has(o.event_id))).toEqual([]);

    const handled = await rows<{ event_id: string; n: number }>(
      ctx.pool,
      sql(
        'e2e.handled',
        `SELECT o.event_id, (SELECT count(*)::int FROM event_log l WHERE l.event_id = o.event_id) AS n
           FROM outbox_event o
          WHERE (SELECT count(*) FROM event_inbox h, unnest(h.handlers) AS x
                  WHERE h.event_id = o.event_id AND x <> 'audit') <> 3
             OR (SELECT count(*) FROM event_log l WHERE l.event_id = o.event_id AND l.consumer = $1) <> 1`,
        [consumer],
      ),
    );
    expect(handled).toEqual([]); // every event marked by metrics, ranking and points, and audited exactly once
    expect(await compareMetrics(ctx.pool, ledger.expected())).toEqual([]);

    for (const p of [relays[1]!.child, collectors[1]!.child])
      expect(await stopCli(p, 'SIGTERM', 45_000)).toBe(0);
  }, 150_000);
});
