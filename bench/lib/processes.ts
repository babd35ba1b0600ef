import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { cpuSeconds } from './cpu.js';

/**
 * The PIDs of the services a stage runs against, where they run on this machine (else undefined: a
 * remote server's CPU cannot be read here), and a meter of the CPU every process used over a span.
 */

/** The PID of the process listening on TCP `port` on this machine: /proc/net/tcp* then each fd. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, the inode is field 9.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(entry);
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** The Kafka broker's PID: the first broker of KAFKA_BROKERS, if it listens on this machine. */
export function kafkaPid(brokers: string[]): number | undefined {
  const [host, port] = (brokers[0] ?? '').split(':');
  if (!isLocal(host)) return undefined;
  return pidListeningOn(Number(port));
}

/** redis-server's PID from INFO (process_id), if it runs on this machine. */
export async function redisPid(redis: Redis, url: string): Promise<number | undefined> {
  if (!isLocal(new URL(url).hostname)) return undefined;
  const info = await redis.info('server');
  const m = /process_id:(\d+)/.exec(info);
  return m ? Number(m[1]) : undefined;
}

/** PostgreSQL's background processes that work for every database (WAL writer, checkpointer, ...). */
export async function postgresBackgroundPids(db: pg.Pool, url: string): Promise<number[]> {
  if (!isLocal(new URL(url).hostname)) return [];
  const { rows } = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
      WHERE backend_type IN ('walwriter', 'checkpointer', 'background writer', 'autovacuum launcher')`,
  );
  return rows.map((r) => r.pid);
}

function isLocal(host: string | undefined): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

/**
 * CPU seconds per named group of processes between start() and stop(). Fixed groups are PID lists;
 * `postgres` is the backends of one database, looked up every 250 ms (a backend that starts meanwhile
 * counts whole, one that ends counts up to the last look).
 */
export class CpuMeter {
  private start = new Map<string, Map<number, number>>();
  private last = new Map<string, Map<number, number>>();
  private timer?: NodeJS.Timeout;
  private looking = Promise.resolve();
  private selfStart = process.cpuUsage();

  constructor(
    private readonly fixed: Record<string, number[]>,
    private readonly backends?: { db: pg.Pool; database: string },
  ) {}

  async begin(): Promise<void> {
    this.start.clear();
    this.last.clear();
    this.selfStart = process.cpuUsage();
    for (const [name, pids] of Object.entries(this.fixed))
      for (const pid of pids) this.see(name, pid, cpuSeconds(pid), true);
    await this.lookBackends(true);
    this.timer = setInterval(
      () => (this.looking = this.looking.then(() => this.lookBackends(false)).catch(() => undefined)),
      250,
    );
  }

  /** CPU seconds per group since begin(); `generator` is this process. */
  async end(): Promise<Record<string, number>> {
    clearInterval(this.timer);
    await this.looking;
    await this.lookBackends(false);
    for (const [name, pids] of Object.entries(this.fixed))
      for (const pid of pids) this.see(name, pid, cpuSeconds(pid), false);
    const out: Record<string, number> = {};
    for (const [name, pids] of this.last) {
      let s = 0;
      for (const [pid, cpu] of pids) s += cpu - this.start.get(name)!.get(pid)!;
      out[name] = s;
    }
    const self = process.cpuUsage(this.selfStart);
    out.generator = (self.user + self.system) / 1e6;
    return out;
  }

  private see(name: string, pid: number, cpu: number, first: boolean) {
    if (cpu === 0) return; // gone, or never seen
    const start = this.start.get(name) ?? new Map<number, number>();
    const last = this.last.get(name) ?? new Map<number, number>();
    this.start.set(name, start);
    this.last.set(name, last);
    if (!start.has(pid)) start.set(pid, first ? cpu : 0);
    last.set(pid, cpu);
  }

  private async lookBackends(first: boolean) {
    if (!this.backends) return;
    const { rows } = await this.backends.db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1`,
      [this.backends.database],
    );
    for (const { pid } of rows) this.see('postgres', pid, cpuSeconds(pid), first);
  }
}
