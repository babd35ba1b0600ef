import { PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type { ClaimedEvent } from '../claim.js';

/**
 * Reading outbox rows out of pgoutput (the CDC relay, relay run --mode cdc).
 *
 * pg-logical-replication parses every column with node-postgres's global type parsers: jsonb through
 * JSON.parse, which would lose the envelope's exact text (the claim publishes `payload::text` byte for
 * byte). This plugin swaps the parsers of every relation it decodes for the identity, synchronously
 * while parsing the Relation message, so the inserts that follow keep each column's text as
 * PostgreSQL sent it (jsonb's output text: the same bytes as `payload::text`).
 */
export class RawTextPgoutputPlugin extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer) as Pgoutput.Message;
    if (message.tag === 'relation') for (const column of message.columns) column.parser = rawText;
    return message;
  }
}

const rawText = (raw: unknown) => raw;

export const OUTBOX_TABLE = 'outbox_event';

/** The claimed-event shape of an inserted outbox_event row, or undefined for any other table. */
export function outboxRowOf(message: Pgoutput.MessageInsert): ClaimedEvent | undefined {
  if (message.relation.name !== OUTBOX_TABLE) return undefined;
  const row = message.new as Record<string, string | null>;
  return {
    id: Number(row.id),
    eventId: String(row.event_id),
    aggregateType: String(row.aggregate_type),
    aggregateId: String(row.aggregate_id),
    version: Number(row.aggregate_version),
    eventType: String(row.event_type),
    topic: String(row.topic),
    partitionKey: String(row.partition_key),
    value: String(row.payload),
    attemptCount: Number(row.attempt_count ?? 0),
    // Absent from rows inserted before migration 017 (still in the WAL): they are version 1.
    schemaVersion: Number(row.schema_version ?? 1),
  };
}

/** An LSN ('16/B374D848') as a number of bytes, to compare and subtract. */
export function lsnToBigInt(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

export function laterLsn(a: string, b: string): string {
  return lsnToBigInt(a) >= lsnToBigInt(b) ? a : b;
}

/** A pgoutput commit time (microseconds since the Unix epoch, as the library reads it) in ms. */
export function commitTimeMs(commitTime: unknown): number {
  return Number(BigInt(commitTime as bigint) / 1000n);
}
