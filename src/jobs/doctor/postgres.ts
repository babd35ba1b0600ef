import type pg from 'pg';
import { one } from '../../lib/db/query.js';
import { migrationStatus } from '../../lib/db/migrations.js';
import { fail, ok, warn, type CheckResult } from './check.js';
import { selectServer } from './sql.js';

const F = 'postgres';
/** PostgreSQL's own clock against this host's beyond this is worth a look (leases, ages, job times). */
const SKEW_WARN_SECONDS = 2;
const SKEW_FAIL_SECONDS = 30;
const MIN_MAJOR = 14;

/** Reachable and its version, wal_level and what it allows, the migrations, the clock skew. */
export async function postgresChecks(pool: pg.Pool): Promise<CheckResult[]> {
  const sent = Date.now();
  const server = await one<{ version: string; wal_level: string; now_epoch: number }>(pool, selectServer());
  const received = Date.now();
  const { version, wal_level: walLevel, now_epoch: serverNow } = server!;
  const out: CheckResult[] = [];
  const major = Number.parseInt(version, 10);
  out.push(
    major >= MIN_MAJOR
      ? ok(F, 'PostgreSQL reachable', `PostgreSQL ${version}`)
      : warn(
          F,
          'PostgreSQL reachable',
          `PostgreSQL ${version} is older than ${MIN_MAJOR}`,
          `upgrade PostgreSQL to ${MIN_MAJOR} or later`,
        ),
  );
  out.push(walLevelCheck(walLevel));
  out.push(await migrationsCheck(pool));
  // The server's clock read halfway through the round trip.
  const skew = serverNow - (sent + received) / 2 / 1000;
  const text = `this host's clock is ${Math.abs(skew).toFixed(2)} s ${skew > 0 ? 'behind' : 'ahead of'} PostgreSQL's`;
  const fix =
    'synchronise both clocks with NTP (chrony/systemd-timesyncd): ages, leases and job times compare them';
  if (Math.abs(skew) > SKEW_FAIL_SECONDS) out.push(fail(F, 'clock skew', text, fix));
  else if (Math.abs(skew) > SKEW_WARN_SECONDS) out.push(warn(F, 'clock skew', text, fix));
  else out.push(ok(F, 'clock skew', text));
  return out;
}

function walLevelCheck(level: string): CheckResult {
  if (level === 'logical')
    return ok(F, 'wal_level', 'logical: physical replicas, backups and logical decoding (CDC) all possible');
  if (level === 'replica')
    return ok(
      F,
      'wal_level',
      'replica: physical replicas and point-in-time backups; CDC (logical decoding) would need wal_level=logical',
    );
  return warn(
    F,
    'wal_level',
    `${level}: no replicas, no point-in-time recovery, no CDC`,
    "ALTER SYSTEM SET wal_level = 'replica' (or 'logical' for CDC), then restart PostgreSQL",
  );
}

/** The same comparison `db status` makes: every migration file applied, none changed since. */
async function migrationsCheck(pool: pg.Pool): Promise<CheckResult> {
  const states = await migrationStatus(pool);
  const pending = states.filter((m) => m.status === 'pending');
  const changed = states.filter((m) => m.status === 'changed');
  const name = (m: { version: number; name: string }) => `${String(m.version).padStart(3, '0')}_${m.name}`;
  if (changed.length > 0)
    return fail(
      F,
      'migrations',
      `changed after they were applied: ${changed.map(name).join(', ')}`,
      'restore the applied files from version control and add a new migration instead (commerce db status)',
    );
  if (pending.length > 0)
    return fail(
      F,
      'migrations',
      `${pending.length} pending: ${pending.map(name).join(', ')}`,
      'commerce db migrate',
    );
  return ok(F, 'migrations', `all ${states.length} applied`);
}
