import { formatDuration } from '../../lib/duration.js';
import type { TracedEvent, TracedPayment, TraceReport } from './types.js';

/** The timeline for people: the aggregate, the sources, then each event hop by hop, oldest first. */
export function renderTrace(r: TraceReport): string {
  const lines: string[] = [];
  const name =
    r.target.kind === 'event'
      ? `Event ${r.target.id} (${r.aggregate.type} ${r.aggregate.id})`
      : `${cap(r.aggregate.type)} ${r.aggregate.id}`;
  lines.push(`${name}${r.aggregate.summary ? `: ${r.aggregate.summary}` : ''}`);
  lines.push(
    `Sources: ${r.sources
      .map(
        (s) =>
          `${s.name} ${s.reachable ? (s.error ? 'in part' : 'OK') : 'NOT REACHABLE'} (${s.durationMs} ms)`,
      )
      .join(', ')}` +
      (r.groups ? `; groups: ${r.groups.length > 0 ? r.groups.join(', ') : 'none consume the topic'}` : ''),
  );
  for (const n of r.notes) lines.push(`! ${n}`);
  if (r.target.kind !== 'event') lines.push(`${r.events.length} of ${r.totalEvents} event(s), oldest first:`);
  for (const e of r.events) lines.push('', ...renderEvent(e));
  if (r.payments) {
    lines.push('', r.payments.length === 0 ? 'Payments: none' : 'Payments:');
    for (const p of r.payments) lines.push(...renderPayment(p));
  }
  return lines.join('\n');
}

function renderEvent(e: TracedEvent): string[] {
  const out = [`${time(e.outbox?.writtenAt ?? e.consumedAt)}  ${e.eventType} v${e.version}  ${e.eventId}`];
  const row = (label: string, text: string) => out.push(`  ${label.padEnd(11)} ${text}`);
  const o = e.outbox;
  if (o)
    row(
      'outbox',
      `${o.status}, ${o.attempts} attempt(s)${o.lastError ? `, last error: ${o.lastError}` : ''}; written ${time(o.writtenAt)}` +
        (o.publishedAt
          ? `, published ${time(o.publishedAt)} (${since(o.writtenAt, o.publishedAt)})`
          : ', not published'),
    );
  else row('outbox', 'no row (cleaned up)');
  const k = e.kafka;
  if (k)
    row(
      'kafka',
      k.offset === null
        ? `${k.topic} partition ${k.partition} (from the key), offset not known`
        : `${k.topic} partition ${k.partition} offset ${k.offset}` +
            (k.timestamp ? `, timestamp ${time(k.timestamp)}` : '') +
            (k.source === 'broker' ? ' (found on the broker; not audited)' : ''),
    );
  row(
    'consumed',
    e.consumedAt
      ? `${time(e.consumedAt)}${o?.publishedAt ? ` (${since(o.publishedAt, e.consumedAt)} after published)` : ''}`
      : 'not yet',
  );
  if (e.handlers.length > 0)
    row(
      'handlers',
      e.handlers
        .map(
          (h) =>
            `${h.handler} ${h.at ? `${time(h.at)} (${since(e.consumedAt, h.at)})` : '(time not recorded)'}` +
            (h.group ? ` by ${h.group}` : ''),
        )
        .join(', '),
    );
  for (const g of e.groups)
    row(
      'group',
      `${g.groupId}: ${g.consumed ? 'consumed' : `NOT YET (committed ${g.committed ?? 'never'} on partition ${g.partition})`}`,
    );
  for (const d of e.deadLetters)
    row(
      'dead letter',
      `${d.topic} offset ${d.offset}: ${d.error ?? '?'} (${d.errorKind ?? '?'}, ${d.attempts ?? '?'} attempt(s), ${d.failedAt ? time(d.failedAt) : '?'}, group ${d.consumerGroup ?? '?'}); ` +
        (d.replayed === null
          ? 'replay unknown'
          : d.replayed
            ? `replayed (${d.replayCount} before)`
            : 'not replayed'),
    );
  for (const m of e.missing) out.push(`  ! ${m}`);
  return out;
}

function renderPayment(p: TracedPayment): string[] {
  const steps = p.transitions
    .map((t) => `${t.status} ${t.at ? time(t.at) : '(time not recorded)'}`)
    .join(' -> ');
  const out = [
    `  payment ${p.id}: ${p.status}, amount ${p.amount}, ${p.gatewayAttempts} gateway call(s): ${steps}`,
  ];
  if (p.failureReason) out.push(`    failure: ${p.failureReason}`);
  if (p.lastError) out.push(`    last gateway error: ${p.lastError}`);
  if (p.refund)
    out.push(
      `    refund: ${p.refund.refundedAt ? `refunded ${time(p.refund.refundedAt)}` : 'requested, not confirmed yet'}`,
    );
  return out;
}

/** "2026-12-07 17:40:01.123Z". */
function time(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ') : '?';
}

function since(from: string | null | undefined, to: string | null | undefined): string {
  if (!from || !to) return '?';
  const ms = Date.parse(to) - Date.parse(from);
  return `${ms < 0 ? '-' : '+'}${formatDuration(Math.abs(ms))}`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
