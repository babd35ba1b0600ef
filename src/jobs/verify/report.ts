/** What `commerce verify` finds: every difference, and what it left out because it is in flight. */
export type CheckName = 'metrics' | 'daily' | 'ranking' | 'outbox' | 'points';

export interface Difference {
  check: CheckName;
  /** metrics/daily/ranking: the product; outbox: the event. */
  productId?: number;
  eventId?: string;
  /** points: the user. */
  userId?: string;
  field: string;
  /** What the source of truth says. */
  expected: string | number | null;
  /** What the read model holds. */
  actual: string | number | null;
}

export interface VerifyReport {
  consistent: boolean;
  differences: Difference[];
  checked: { products: number; rankingMembers: number; outboxNotInEventLog: number; pointsUsers: number };
  /** Accounted for, not compared: their read models may lag legitimately. */
  inFlight: {
    /** Products with an event not yet published / collected / audited, by reason. */
    products: number;
    byReason: Record<string, number>;
    /** Published events not in event_log on partitions the collector has not caught up on. */
    outboxEventsBehindCollector: number;
    /** Users with an OrderPaid / PaymentRefunded the points handler has not applied yet, or a refund under way. */
    pointsUsers: number;
  };
  ranking: {
    date: string;
    key: string;
    keyExists: boolean;
    carriedOver: boolean;
    carryWeight: number;
    /** Products whose daily rows differ: their expected score is unknown, so they are not compared. */
    notComparedDailyDiffers: number;
  };
  durationMs: number;
}
