import { unavailableService } from '../../lib/error-kind.js';
import { errorMessage } from '../../lib/errors.js';
import { NoAnswerError, withinTimeout as withinTimeLimit } from '../../lib/timeout.js';

export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

/** One line of `doctor`: what was checked, what it found and, when not OK, what fixes it. */
export interface CheckResult {
  /** The check family (postgres, redis, kafka, outbox, payments, jobs). */
  family: string;
  name: string;
  status: CheckStatus;
  detail: string;
  /** The command or setting that fixes it (absent when OK). */
  fix?: string;
}

export const ok = (family: string, name: string, detail: string): CheckResult => ({
  family,
  name,
  status: 'OK',
  detail,
});
export const warn = (family: string, name: string, detail: string, fix: string): CheckResult => ({
  family,
  name,
  status: 'WARN',
  detail,
  fix,
});
export const fail = (family: string, name: string, detail: string, fix: string): CheckResult => ({
  family,
  name,
  status: 'FAIL',
  detail,
  fix,
});

/**
 * Runs one family of checks within `timeoutMs`: a service that does not answer (or refuses) turns into
 * one FAIL line naming it, with `unreachableFix`, instead of a hang or a crash; any other error (a
 * table missing, a permission) into a FAIL of the family with `otherFix`. The family's work may go on
 * in the background after the timeout; the caller closes its clients, which ends it.
 */
export async function withinTimeout(
  family: string,
  what: string,
  timeoutMs: number,
  unreachableFix: string,
  run: () => Promise<CheckResult[]>,
  otherFix = 'commerce doctor --log-level debug (the full error)',
): Promise<CheckResult[]> {
  try {
    return await withinTimeLimit(run(), timeoutMs, what);
  } catch (err) {
    if (err instanceof NoAnswerError || unavailableService(err))
      return [
        fail(family, `${what} reachable`, `${what} is unreachable: ${errorMessage(err)}`, unreachableFix),
      ];
    return [fail(family, `${family} checks`, `could not check: ${errorMessage(err)}`, otherFix)];
  }
}

/** "42s", "12m", "3.5h": an age for people. */
export function age(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${(seconds / 3_600).toFixed(1)}h`;
  return `${(seconds / 86_400).toFixed(1)}d`;
}
