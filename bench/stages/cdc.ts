import { rows } from '../../src/lib/db/query.js';
import { createLogger } from '../../src/lib/log.js';
import { CdcRelay } from '../../src/jobs/relay/cdc/relay.js';
import { parseRelayOptions, RELAY_DEFAULTS } from '../../src/jobs/relay/options.js';
import { toMessage } from '../../src/jobs/relay/batch.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';
import { claimEvents } from '../../test/support/outbox-reference.js';
import { logicalCluster } from '../../test/support/cdc.js';
import { createBenchContext } from '../lib/context.js';
import { insertOutbox, viewEvents } from '../lib/events.js';
import { sendAllBare } from '../lib/producer.js';
import {
  figure,
  perSecond,
  target,
  timed,
  waitFor,
  type StageOptions,
  type StageResult,
} from '../lib/measure.js';

/** The bench's private cluster (wal_level=logical): a port of the CDC relay's range, not its tests'. */
const PORT = 29710;

/**
 * CDC relay (relay run --mode cdc): N outbox rows committed while the relay was stopped (its slot kept
 * them), then the relay started and timed until every row is acknowledged by Kafka and marked
 * PUBLISHED: decoding from the WAL, sending and the bulk mark included. Against the bare idempotent
 * producer sending the very same messages (the relay stage's baseline, bench/lib/producer.ts) in the
 * same run, on the same machine. On a private pg-up cluster (the shared one has wal_level=replica).
 */
export async function cdcStage({ quick, log }: StageOptions): Promise<StageResult> {
  const n = quick ? 5_000 : 100_000;
  log(`cdc: private PostgreSQL (wal_level=logical) on ${PORT}`);
  const cluster = await logicalCluster(PORT);
  try {
    const ctx = await createBenchContext({}, cluster.url);
    try {
      const options = parseRelayOptions({ mode: 'cdc', slot: `bench_cdc_${ctx.id}` });
      const relay = () =>
        new CdcRelay({
          config: ctx.config,
          pool: ctx.pool,
          logger: createLogger('error', { pretty: false }),
          options,
        });
      // The slot is made (and everything before it published) by a first run, stopped at once.
      const first = relay();
      await first.start();
      await waitFor('the CDC slot', async () => (await slotActive(ctx, options.cdc.slot)) === true, 60_000);
      await first.stop();

      log(`cdc: writing ${n} outbox rows (relay stopped: the slot keeps them)`);
      await insertOutbox(ctx.pool, viewEvents(n), ctx.config.kafka.topics);
      const claimed = await rows<ClaimedEvent>(ctx.pool, claimEvents('bench-peek', n, 60_000));
      await ctx.pool.query('UPDATE outbox_event SET locked_by = NULL, locked_until = NULL');
      const messages = claimed.sort((a, b) => a.id - b.id).map((e) => toMessage(e));
      const topic = await ctx.createTopic('baseline-catalog');

      log('cdc: bare producer baseline');
      const bare = await timed(() => sendAllBare(ctx.kafka, topic, messages, RELAY_DEFAULTS.batchSize));
      log('cdc: CDC relay from the slot');
      const cdc = relay();
      const run = await timed(async () => {
        await cdc.start();
        await waitFor('the CDC relay to publish every row', () => cdc.stats.published >= n, 600_000, 10);
        await waitFor('every row marked PUBLISHED', async () => (await pendingRows(ctx)) === 0, 600_000, 10);
      });
      await cdc.stop();
      const baseline = { name: 'bare kafkajs producer', value: perSecond(n, bare.ms) };
      const f = figure(
        'cdc',
        `outbox -> Kafka from the WAL, ${n} events`,
        perSecond(n, run.ms),
        'events/s',
        baseline,
      );
      return {
        figures: [f],
        targets: [target('cdc', 'CDC relay / bare producer >= 0.8', f.ratio!, 'min', 0.8)],
      };
    } finally {
      await ctx.close();
    }
  } finally {
    await cluster.down();
  }
}

async function slotActive(ctx: Awaited<ReturnType<typeof createBenchContext>>, slot: string) {
  const { rows: found } = await ctx.pool.query<{ active: boolean }>(
    'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  return found[0]?.active;
}

async function pendingRows(ctx: Awaited<ReturnType<typeof createBenchContext>>) {
  const { rows: found } = await ctx.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbox_event WHERE status = 'PENDING'`,
  );
  return found[0]!.n;
}
