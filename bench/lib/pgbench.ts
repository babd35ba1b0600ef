import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import type { Sql } from '../../src/lib/db/query.js';

import { createRequire } from 'node:module';

// pg's own serialiser for parameters (an array becomes the literal the server parses back).
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (v: unknown) => unknown;
};

const run = promisify(execFile);

/** The pgbench binary of the installed PostgreSQL (PGBENCH overrides). */
export function pgbenchPath(): string {
  if (process.env.PGBENCH) return process.env.PGBENCH;
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no /usr/lib/postgresql/<version>/bin/pgbench: set PGBENCH');
  return `/usr/lib/postgresql/${versions[0]}/bin/pgbench`;
}

/** Records every statement the clients of a pool send (text statements such as BEGIN included). */
export function recordingPool(pool: pg.Pool, seen: Sql[]): pg.Pool {
  const record = (q: unknown) => {
    seen.push(typeof q === 'string' ? { name: q, text: q, values: [] } : (q as Sql));
  };
  const connect = async () => recording(await pool.connect(), record);
  return recording(pool, record, connect);
}

/** `target` with its query() recorded first (and connect() replaced, for a pool). */
function recording<T extends object>(target: T, record: (q: unknown) => void, connect?: () => unknown): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop === 'connect' && connect) return connect;
      if (prop === 'query')
        return (q: unknown, ...rest: unknown[]) => {
          record(q);
          return (Reflect.get(t, 'query') as (...a: unknown[]) => unknown).call(t, q, ...rest);
        };
      const value = Reflect.get(t, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/**
 * A pgbench script built from recorded statements: each statement keeps its text; a parameter given
 * in `args` (by position) becomes that pgbench expression (a `\set` random id, a value an earlier
 * statement returned through `\gset`), every other one is passed as the value the application sent
 * (a `-D` variable, which pgbench -M prepared binds as a parameter, as node-postgres does).
 */
export class PgbenchScript {
  private lines: string[] = [];
  readonly defines: string[] = [];

  raw(line: string): this {
    this.lines.push(line);
    return this;
  }

  statement(q: Sql, args: Record<number, string> = {}, gsetPrefix?: string): this {
    const text = q.text.replace(/\$(\d+)/g, (_, n: string) => {
      const i = Number(n);
      if (args[i] !== undefined) return args[i];
      const value = q.values[i - 1];
      if (value === null || value === undefined) return 'NULL';
      const name = `v${this.defines.length}`;
      this.defines.push(`${name}=${String(prepareValue(value))}`);
      return `:${name}`;
    });
    // pgbench reads one statement per line unless it ends with a semicolon.
    this.lines.push(`${text.replace(/\s+/g, ' ').trim()}${gsetPrefix ? ` \\gset ${gsetPrefix}` : ';'}`);
    return this;
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export interface PgbenchResult {
  tps: number;
  transactions: number;
  latencyMs: number;
  failed: number;
}

/** Runs a custom script with -M prepared at `clients` connections for `seconds`. */
export async function pgbench(
  url: string,
  script: PgbenchScript,
  clients: number,
  seconds: number,
): Promise<PgbenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-pgbench-'));
  try {
    const file = join(dir, 'script.sql');
    await writeFile(file, script.text());
    const args = ['-n', '-M', 'prepared', '-c', String(clients), '-j', '1', '-T', String(seconds)];
    for (const d of script.defines) args.push('-D', d);
    args.push('-f', file, url);
    const { stdout } = await run(pgbenchPath(), args, { maxBuffer: 16 * 1024 * 1024 });
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    const latency = /latency average = ([\d.]+) ms/.exec(stdout);
    const done = /number of transactions actually processed: (\d+)/.exec(stdout);
    const failed = /number of failed transactions: (\d+)/.exec(stdout);
    if (!tps || !latency || !done) throw new Error(`pgbench: no tps in its output:\n${stdout}`);
    return {
      tps: Number(tps[1]),
      transactions: Number(done[1]),
      latencyMs: Number(latency[1]),
      failed: Number(failed?.[1] ?? 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
