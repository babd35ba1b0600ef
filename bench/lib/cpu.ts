import { readFileSync } from 'node:fs';
import type pg from 'pg';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold blanks), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds the PostgreSQL backends of one database used while `fn` ran (the server must be on this
 * machine), looked up every 200 ms: a backend that starts during `fn` counts whole; one that ends
 * during it counts up to the last look before it ended (pgbench's clients all end with the run: up to
 * 200 ms of a 10 s run, 2 %, is missed).
 */
export async function backendCpuDuring<T>(
  db: pg.Pool,
  database: string,
  fn: () => Promise<T>,
): Promise<{ result: T; seconds: number }> {
  const start = new Map<number, number>();
  const last = new Map<number, number>();
  const look = async (first: boolean) => {
    const { rows } = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [database],
    );
    for (const { pid } of rows) {
      const cpu = cpuSeconds(pid);
      if (cpu === 0) continue;
      if (!start.has(pid)) start.set(pid, first ? cpu : 0);
      last.set(pid, cpu);
    }
  };
  await look(true);
  let looking = Promise.resolve();
  const timer = setInterval(() => (looking = looking.then(() => look(false)).catch(() => undefined)), 200);
  try {
    const result = await fn();
    clearInterval(timer);
    await looking;
    await look(false);
    let seconds = 0;
    for (const [pid, cpu] of last) seconds += cpu - start.get(pid)!;
    return { result, seconds };
  } finally {
    clearInterval(timer);
  }
}
