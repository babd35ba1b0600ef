import { createBenchContext } from '/work/wt/perf/bench/lib/context.js';
import { insertOutbox, viewEvents } from '/work/wt/perf/bench/lib/events.js';
import { claimBatch } from '/work/wt/perf/src/lib/outbox/claim.js';
import { renewLease, markPublished } from '/work/wt/perf/src/lib/outbox/sql.js';
import { rows, exec } from '/work/wt/perf/src/lib/db/query.js';
import { topicMessages } from '/work/wt/perf/src/jobs/relay/batch.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '/work/wt/perf/src/lib/kafka/client.js';

const ctx = await createBenchContext();
const n = Number(process.argv[2] ?? 20000);
await insertOutbox(ctx.pool, viewEvents(n), ctx.config.kafka.topics);
await ctx.pool.query('VACUUM ANALYZE outbox_event');
const producer = createIdempotentProducer(ctx.kafka);
await producer.connect();
const t = { claim: 0, renew: 0, send: 0, mark: 0 };
const now = () => performance.now();
let done = 0;
const start = now();
while (done < n) {
  let a = now();
  const { events } = await claimBatch(ctx.pool, 'prof', 500, 30000);
  t.claim += now() - a; a = now();
  const ids = events.map((e) => e.id);
  await rows(ctx.pool, renewLease('prof', ids, 30000, 26250));
  t.renew += now() - a; a = now();
  await producer.sendBatch({ topicMessages: topicMessages(events), ...SEND_ACKS_ALL });
  t.send += now() - a; a = now();
  await exec(ctx.pool, markPublished('prof', ids));
  t.mark += now() - a;
  done += events.length;
}
const total = now() - start;
console.log(JSON.stringify({ n, totalMs: Math.round(total), perBatchMs: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, +(v / (n / 500)).toFixed(1)])) }));
await producer.disconnect();
await ctx.close();
