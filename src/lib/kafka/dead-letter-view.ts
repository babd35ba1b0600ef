import type { IHeaders, KafkaMessage } from 'kafkajs';
import { DLQ_HEADERS, readDeadLetter } from './dead-letter.js';
import { readEventHeaders } from './event-headers.js';

/** One dead letter as `dlq list` and `dlq replay` show it. */
export interface DeadLetterView {
  partition: number;
  offset: string;
  key: string | null;
  eventId: string | null;
  /** From the value's eventType, else the headers' (ce_type, else the legacy event-type), else '?'. */
  eventType: string;
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  consumerGroup: string | null;
  error: string | null;
  errorKind: string | null;
  attempts: number | null;
  failedAt: string | null;
  replayCount: number;
  /** A `rejected` letter's HTTP status from the webhook receiver. */
  responseStatus: number | null;
}

export function viewDeadLetter(partition: number, message: KafkaMessage): DeadLetterView {
  const info = readDeadLetter(message.headers);
  const value = parseValue(message.value);
  const headers = readEventHeaders(message.headers);
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    eventId: stringField(value, 'eventId') ?? headers.eventId ?? null,
    eventType: stringField(value, 'eventType') ?? headers.eventType ?? '?',
    originalTopic: info.originalTopic || null,
    originalPartition: Number.isInteger(info.originalPartition) ? info.originalPartition! : null,
    originalOffset: info.originalOffset ?? null,
    consumerGroup: info.consumerGroup ?? null,
    error: info.error ?? null,
    errorKind: info.errorKind ?? null,
    attempts: Number.isInteger(info.attempts) ? info.attempts! : null,
    failedAt: info.failedAt ?? null,
    replayCount: Number.isInteger(info.replayCount) ? info.replayCount : 0,
    responseStatus: Number.isInteger(info.responseStatus) ? info.responseStatus! : null,
  };
}

const DLQ_HEADER_NAMES = new Set<string>(Object.values(DLQ_HEADERS));

/**
 * The message to send back to the original topic: the letter's key and value untouched, its headers
 * without the dead-letter headers (a replayed event is not a dead letter), plus x-replay-count + 1.
 */
export function replayMessage(
  message: KafkaMessage,
  replayCount: number,
): { key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (!DLQ_HEADER_NAMES.has(name) && value !== undefined) headers[name] = value;
  }
  headers[DLQ_HEADERS.replayCount] = String(replayCount + 1);
  return { key: message.key ?? null, value: message.value ?? null, headers };
}

function parseValue(value: Buffer | null): unknown {
  if (!value || value.length === 0) return undefined;
  try {
    return JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
}

function stringField(value: unknown, name: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[name];
  return typeof field === 'string' && field.length > 0 ? field : undefined;
}
