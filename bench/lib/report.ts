import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import Table from 'cli-table3';
import type { Figure, Target } from './measure.js';
import { serverUrl } from './context.js';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  kafka: string;
}

/** Where the figures came from: the machine and the versions of everything that was measured. */
export async function describeMachine(): Promise<Machine> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  const { rows } = await client
    .query<{ v: string }>("SELECT current_setting('server_version') AS v")
    .finally(() => client.end());
  const pom = await readFile(new URL('../../scripts/kafka/pom.xml', import.meta.url), 'utf8');
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: rows[0]!.v,
    kafka: /<kafka.version>([^<]+)</.exec(pom)?.[1] ?? 'unknown',
  };
}

const fmt = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2);

export function printTable(figures: Figure[], targets: Target[]): void {
  const table = new Table({ head: ['stage', 'measure', 'value', 'baseline', 'ratio'] });
  for (const f of figures)
    table.push([
      f.stage,
      f.name,
      `${fmt(f.value)} ${f.unit}`,
      f.baseline ? `${fmt(f.baseline.value)} (${f.baseline.name})` : '',
      f.ratio === undefined ? '' : f.ratio.toFixed(2),
    ]);
  console.log(table.toString());
  const checks = new Table({ head: ['target', 'actual', 'met'] });
  for (const t of targets) checks.push([t.description, fmt(t.actual), t.met ? 'yes' : 'NO']);
  console.log(checks.toString());
  const missed = targets.filter((t) => !t.met);
  if (missed.length > 0)
    console.log(
      `MISSED ${missed.length} target(s): ${missed.map((t) => `${t.description} (got ${fmt(t.actual)})`).join('; ')}`,
    );
}

export async function writeResults(file: URL, result: object): Promise<void> {
  await mkdir(new URL('.', file), { recursive: true });
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
}
