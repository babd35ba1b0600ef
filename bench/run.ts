import { parseArgs } from 'node:util';
import { relayStage } from './stages/relay.js';
import { collectorStage } from './stages/collector.js';
import { apiStage } from './stages/api.js';
import { ordersStage } from './stages/orders.js';
import { e2eStage } from './stages/e2e.js';
import { aggregateStage } from './stages/aggregate.js';
import { paymentsStage } from './stages/payments.js';
import { wakeupStage } from './stages/wakeup.js';
import { cdcStage } from './stages/cdc.js';
import { describeMachine, printTable, writeResults } from './lib/report.js';
import type { Figure, StageOptions, StageResult, Target } from './lib/measure.js';

/**
 * `npm run bench [-- --quick] [-- --only relay,collector]`: every stage against its baseline, in one
 * run, on the services named by DATABASE_URL, REDIS_URL and KAFKA_BROKERS. Prints a table and writes
 * bench/results/latest.json. Exits non-zero only when a stage fails, never for a missed target.
 */
const STAGES: Record<string, (o: StageOptions) => Promise<StageResult>> = {
  relay: relayStage,
  cdc: cdcStage,
  collector: collectorStage,
  aggregate: aggregateStage,
  api: apiStage,
  orders: ordersStage,
  e2e: e2eStage,
  payments: paymentsStage,
  wakeup: wakeupStage,
};

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const names = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(STAGES);
const unknown = names.filter((n) => !(n in STAGES));
if (unknown.length > 0) {
  console.error(`unknown stage(s): ${unknown.join(', ')}; stages: ${Object.keys(STAGES).join(', ')}`);
  process.exit(2);
}

const started = Date.now();
const log = (message: string) =>
  console.error(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
const machine = await describeMachine();
const figures: Figure[] = [];
const targets: Target[] = [];
const failures: string[] = [];
const stageSeconds: Record<string, number> = {};
for (const name of names) {
  const t0 = Date.now();
  try {
    const result = await STAGES[name]!({ quick: values.quick, log });
    figures.push(...result.figures);
    targets.push(...result.targets);
  } catch (err) {
    failures.push(name);
    console.error(`stage ${name} failed:`, err);
  }
  stageSeconds[name] = (Date.now() - t0) / 1000;
}

printTable(figures, targets);
await writeResults(new URL('./results/latest.json', import.meta.url), {
  date: new Date().toISOString(),
  mode: values.quick ? 'quick' : 'full',
  machine,
  stageSeconds,
  figures,
  targets,
  failures,
});
log(`done; results in bench/results/latest.json`);
process.exit(failures.length > 0 ? 1 : 0);
