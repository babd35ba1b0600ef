/** Deep enough for kafkajs' retrier wrapping a protocol error (NonRetriable / NumberOfRetriesExceeded). */
const MAX_CAUSES = 8;

/**
 * Coordinator answers that mean "this member is not in the group's current generation": it must
 * join again before it may commit or fetch for the group. kafkajs rejoins on these only when they
 * reach its fetch loop unwrapped (runner.scheduleFetchManager tests `e.type`).
 */
const MEMBERSHIP_LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);

export type MembershipError = Error & { type: string };

/**
 * The protocol error under `err` (walking `cause`) that says this member lost its group membership,
 * or undefined. kafkajs' commitOffsets goes through a retrier that wraps such an error in a
 * KafkaJSNonRetriableError whose own `type` is unset.
 */
export function lostMembership(err: unknown): MembershipError | undefined {
  let current = err;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < MAX_CAUSES; depth++) {
    const e = current as { type?: unknown; cause?: unknown };
    if (current instanceof Error && typeof e.type === 'string' && MEMBERSHIP_LOST.has(e.type))
      return current as MembershipError;
    current = e.cause;
  }
  return undefined;
}
