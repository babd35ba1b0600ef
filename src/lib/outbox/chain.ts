/**
 * The claim's chain rule, decided in the relay instead of in SQL: sorting and window functions over
 * the window's rows cost PostgreSQL ~6 ms per claim of 500 on this machine (the biggest share after
 * the probes), a few hundred microseconds here. The same rule in one SQL statement is the reference
 * (claimEvents in test/support/outbox-reference.ts, which documents it; relay-chain.test.ts checks
 * both agree on random backlogs).
 */

/** What identifies a row's aggregate: enough for the ordering rules below. */
export interface AggregateRow {
  id: number;
  aggregateType: string;
  aggregateId: string;
}

export function aggregateKey(row: Pick<AggregateRow, 'aggregateType' | 'aggregateId'>): string {
  return `${row.aggregateType}:${row.aggregateId}`;
}

/**
 * The rule that keeps an aggregate's rows in order whenever some rows of a batch fall out (a lease
 * taken over, a row another relay locked first): in id order, each aggregate is cut at its first
 * missing row. `kept`: present rows before any cut; `after`: present rows behind one, which must not
 * go out without it.
 */
export function cutAtGaps<T extends AggregateRow>(
  rows: T[],
  present: (row: T) => boolean,
): { kept: T[]; after: T[] } {
  const cut = new Set<string>();
  const kept: T[] = [];
  const after: T[] = [];
  for (const row of [...rows].sort((a, b) => a.id - b.id)) {
    const aggregate = aggregateKey(row);
    if (!present(row)) cut.add(aggregate);
    else if (cut.has(aggregate)) after.push(row);
    else kept.push(row);
  }
  return { kept, after };
}

/** A row of the claim's window, with its immediate predecessor (selectClaimWindow). */
export interface WindowRow extends AggregateRow {
  /** The latest earlier unpublished row of its aggregate, null if none. */
  predecessor: number | null;
  /** That predecessor is FAILED, blocked or waiting for its retry backoff. */
  stuck: boolean;
}

export interface ClaimDecision {
  /** Rows to claim, in id order: at most `limit`, each with every earlier unpublished row of its aggregate before it. */
  picked: WindowRow[];
  /** Rows to flag blocked: chains that start behind a stuck predecessor. */
  block: number[];
}

/**
 * Per aggregate, in id order: a row breaks the chain when its predecessor is not the previous window
 * row of its aggregate (the first row: when it has one). Rows before the first break are claimable;
 * each chain that starts at a break behind a stuck predecessor is blocked as a whole.
 */
export function decideClaim(window: WindowRow[], limit: number): ClaimDecision {
  const byAggregate = new Map<string, WindowRow[]>();
  for (const row of [...window].sort((a, b) => a.id - b.id)) {
    const key = aggregateKey(row);
    let rows = byAggregate.get(key);
    if (!rows) byAggregate.set(key, (rows = []));
    rows.push(row);
  }
  const claimable: WindowRow[] = [];
  const block: number[] = [];
  for (const rows of byAggregate.values()) {
    let broken = false;
    let blocking = false;
    let previous: number | null = null;
    for (const row of rows) {
      const brk = row.predecessor !== previous;
      if (brk) {
        broken = true;
        blocking = row.stuck;
      }
      if (!broken) claimable.push(row);
      else if (blocking) block.push(row.id);
      previous = row.id;
    }
  }
  claimable.sort((a, b) => a.id - b.id);
  return { picked: claimable.slice(0, limit), block: block.sort((a, b) => a - b) };
}

/** The locked rows of a pick, in id order, each aggregate cut at its first picked row not locked (cutAtGaps). */
export function keptInOrder<T extends { id: number }>(picked: AggregateRow[], locked: T[]): T[] {
  const byId = new Map(locked.map((e) => [e.id, e]));
  return cutAtGaps(picked, (row) => byId.has(row.id)).kept.map((row) => byId.get(row.id)!);
}
