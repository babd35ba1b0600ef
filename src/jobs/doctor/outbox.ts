import type pg from 'pg';
import { one } from '../../lib/db/query.js';
import { age, fail, ok, warn, type CheckResult } from './check.js';
import { selectOutboxHealth } from '../../lib/outbox/sql/status.js';

const F = 'outbox';
/** A relay publishes within seconds of a commit; the alert CommerceRelayLagging pages at 5 minutes. */
const PENDING_WARN_SECONDS = 60;
const PENDING_FAIL_SECONDS = 300;
/** A relay publishing now, or holding a lease, is alive; idle with nothing to publish is fine too. */
const RECENT_PUBLISH_SECONDS = 120;

/** Relays alive, the oldest PENDING row's age, FAILED rows. */
export async function outboxChecks(pool: pg.Pool): Promise<CheckResult[]> {
  const h = (await one<{
    pending: number;
    failed: number;
    oldest_pending_age: number;
    relays_leasing: number;
    last_publish_age: number | null;
  }>(pool, selectOutboxHealth()))!;
  const out: CheckResult[] = [];
  const published =
    h.last_publish_age === null ? 'nothing published yet' : `last publish ${age(h.last_publish_age)} ago`;
  const recent = h.last_publish_age !== null && h.last_publish_age <= RECENT_PUBLISH_SECONDS;
  if (h.relays_leasing > 0 || recent)
    out.push(ok(F, 'relays alive', `${h.relays_leasing} relay(s) holding leases, ${published}`));
  else if (h.pending === 0) out.push(ok(F, 'relays alive', `nothing to publish (${published})`));
  else
    out.push(
      fail(
        F,
        'relays alive',
        `no relay at work: ${h.pending} PENDING row(s), no lease held, ${published}`,
        'start a relay: commerce relay run (or check its pods and its log: paused on Kafka or PostgreSQL?)',
      ),
    );
  const pendingText = `${h.pending} PENDING, the oldest ${age(h.oldest_pending_age)} old`;
  const pendingFix =
    'commerce outbox status (blocked rows? due rows?); start or scale relays: commerce relay run';
  if (h.pending === 0) out.push(ok(F, 'oldest PENDING row', 'none pending'));
  else if (h.oldest_pending_age > PENDING_FAIL_SECONDS)
    out.push(fail(F, 'oldest PENDING row', pendingText, pendingFix));
  else if (h.oldest_pending_age > PENDING_WARN_SECONDS)
    out.push(warn(F, 'oldest PENDING row', pendingText, pendingFix));
  else out.push(ok(F, 'oldest PENDING row', pendingText));
  out.push(
    h.failed === 0
      ? ok(F, 'FAILED rows', 'none')
      : fail(
          F,
          'FAILED rows',
          `${h.failed} row(s) the relay gave up on; later events of their aggregates wait behind them`,
          'commerce outbox status (their last error); fix the cause, then commerce outbox retry',
        ),
  );
  return out;
}
