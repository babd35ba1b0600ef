import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as states from '../../src/lib/outbox/sql/states.js';
import { selectClaimWindow, releaseStaleBlocks } from '../../src/lib/outbox/sql/claim.js';
import { lockPicked } from '../../src/lib/outbox/sql/claim-lock.js';
import { releaseLeases, renewLease } from '../../src/lib/outbox/sql/claim-lease.js';
import { markAttemptFailed, markPublished } from '../../src/lib/outbox/sql/mark.js';
import {
  selectAnyWaiting,
  selectClaimOutlook,
  selectPendingSummary,
} from '../../src/lib/outbox/sql/status.js';
import { claimEvents } from '../support/outbox-reference.js';

/**
 * An outbox row's states are named once (src/lib/outbox/sql/states.ts): no statement spells a
 * predicate on `blocked`, `locked_until` or `next_attempt_at` by hand (only the fragments do, and the
 * statements that SET those columns), and the outbox's own statements compare `status` only through
 * them. Checked on the literal text of every string and template in src (what sits between `${}`s).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FRAGMENTS = 'src/lib/outbox/sql/states.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(`${dir}/${d.name}`) : d.name.endsWith('.ts') ? [`${dir}/${d.name}`] : [],
  );
}

/** Every literal piece of text in a file: strings, templates and the parts of templates between `${}`s. */
function literals(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found.push(node.text);
    else if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node))
      found.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const COLUMN = String.raw`(?:\b\w+\.)?`;
/** A predicate on the state columns: a comparison, an IS [NOT] NULL, or `blocked` used as a condition. */
const BY_HAND = [
  new RegExp(String.raw`${COLUMN}(next_attempt_at|locked_until)\s*(<=|>=|<>|<|>|IS\s)`, 'i'),
  new RegExp(String.raw`(WHERE|AND|OR|NOT|WHEN)\s+${COLUMN}blocked\b(?!\s*=)`, 'i'),
  new RegExp(String.raw`${COLUMN}blocked\s+(AND|OR)\b`, 'i'),
];
/** In the outbox's own statements: a `status` comparison in a condition (SET status = ... is a write). */
const STATUS_BY_HAND = new RegExp(String.raw`(WHERE|AND|OR|WHEN|\()\s*${COLUMN}status\s*(=|<>)\s*'`, 'i');

describe('outbox row states', () => {
  const files = sourceFiles(`${ROOT}src`)
    .map((path) => relative(ROOT, path))
    .filter((file) => file !== FRAGMENTS);

  it('no file spells a state predicate by hand', () => {
    const offending = files.flatMap((file) => {
      const rules = file.startsWith('src/lib/outbox/') ? [...BY_HAND, STATUS_BY_HAND] : BY_HAND;
      return literals(`${ROOT}${file}`)
        .filter((t) => rules.some((r) => r.test(t)))
        .map((t) => `${file}: ${t.trim().slice(0, 200)}`);
    });
    expect(offending).toEqual([]);
  });

  it('the rules catch a predicate spelled by hand', () => {
    const caught = (t: string, rules = [...BY_HAND, STATUS_BY_HAND]) => rules.some((r) => r.test(t));
    expect(caught(`WHERE o.status = 'PENDING' AND NOT o.blocked`)).toBe(true);
    expect(caught(`AND (o.locked_until IS NULL OR o.locked_until < now())`)).toBe(true);
    expect(caught(`count(*) FILTER (WHERE next_attempt_at <= now())`)).toBe(true);
    expect(caught(`FROM outbox_event WHERE blocked ORDER BY id`)).toBe(true);
    expect(caught(`SET status = 'PUBLISHED', blocked = false, next_attempt_at = now()`)).toBe(false);
    expect(caught(`SELECT e.id, e.status, e.blocked, e.next_attempt_at FROM outbox_event e`)).toBe(false);
  });

  it('the statements that ask use the fragments', () => {
    const uses = (text: string, ...fragments: string[]) => {
      for (const f of fragments) expect(text).toContain(f);
    };
    uses(selectClaimWindow(1).text, states.claimable('o'), states.unpublished('e'), states.stuck('p'));
    uses(claimEvents('r', 1, 1).text, states.claimable('o'), states.stuck('p'));
    uses(lockPicked([], []).text, states.pending('o'), states.unleased('o'), states.notBlocked());
    uses(renewLease('r', [], 1, 1).text, states.leasedFor('$4'), states.leasedTo('$1'));
    uses(releaseLeases('r').text, states.leasedTo('$1'));
    uses(markPublished(null, []).text, states.ownedBy('$1'), states.pending(), states.blocked('o'));
    uses(
      markAttemptFailed(null, [], { maxAttempts: 1, baseBackoffMs: 1, maxBackoffMs: 1 }).text,
      states.ownedBy('$1'),
    );
    uses(releaseStaleBlocks().text, states.blocked(), states.holding('p'));
    uses(selectClaimOutlook().text, states.due(), states.leased(), states.blocked(), states.pending());
    uses(selectAnyWaiting().text, states.pending(), states.notBlocked(), states.due());
    uses(selectPendingSummary().text, states.due(), states.blocked());
  });

  it('the claim window is the claim index predicate plus due and unleased', () => {
    // outbox_event_claim_window_idx is partial on (status = 'PENDING' AND NOT blocked): the planner
    // proves it from the claim's text, so the fragment must keep both conjuncts as written.
    expect(states.claimable('o')).toMatch(
      /^o\.status = 'PENDING' AND NOT o\.blocked\s+AND o\.next_attempt_at <= now\(\)/,
    );
  });
});
