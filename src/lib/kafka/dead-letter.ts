import type { IHeaders, KafkaMessage } from 'kafkajs';

/**
 * The dead-letter format, shared by the collector (which writes letters) and `dlq list/replay`
 * (which read them). A letter keeps the original key and value untouched; everything needed to
 * understand and replay it travels in headers.
 */
export const DLQ_HEADERS = {
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  consumerGroup: 'x-consumer-group',
  error: 'x-error',
  // 'poison' (never retried), 'failed' (a handler kept failing) or 'rejected' (a webhook receiver
  // refused the event with a 4xx; x-response-status carries it)
  errorKind: 'x-error-kind',
  attempts: 'x-attempts',
  failedAt: 'x-failed-at',
  replayCount: 'x-replay-count',
  responseStatus: 'x-response-status',
} as const;

export interface DeadLetterInfo {
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  consumerGroup: string;
  error: string;
  errorKind: 'poison' | 'failed' | 'rejected';
  attempts: number;
  failedAt: string;
  responseStatus?: number;
}

const MAX_ERROR_LENGTH = 2_000;

/** The message to send to `<topic>.dlq` for a message that could not be processed. */
export function deadLetterMessage(
  original: Pick<KafkaMessage, 'key' | 'value' | 'headers'>,
  info: DeadLetterInfo,
): { key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  return {
    key: original.key ?? null,
    value: original.value ?? null,
    headers: {
      ...(original.headers ?? {}),
      [DLQ_HEADERS.originalTopic]: info.originalTopic,
      [DLQ_HEADERS.originalPartition]: String(info.originalPartition),
      [DLQ_HEADERS.originalOffset]: info.originalOffset,
      [DLQ_HEADERS.consumerGroup]: info.consumerGroup,
      [DLQ_HEADERS.error]: info.error.slice(0, MAX_ERROR_LENGTH),
      [DLQ_HEADERS.errorKind]: info.errorKind,
      [DLQ_HEADERS.attempts]: String(info.attempts),
      [DLQ_HEADERS.failedAt]: info.failedAt,
      ...(info.responseStatus === undefined
        ? {}
        : { [DLQ_HEADERS.responseStatus]: String(info.responseStatus) }),
    },
  };
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Reads a letter's headers; fields that are missing stay undefined (a letter may be hand-made). */
export function readDeadLetter(
  headers: IHeaders | undefined,
): Partial<DeadLetterInfo> & { replayCount: number } {
  const num = (name: string) => {
    const v = headerString(headers, name);
    return v === undefined ? undefined : Number(v);
  };
  return {
    originalTopic: headerString(headers, DLQ_HEADERS.originalTopic),
    originalPartition: num(DLQ_HEADERS.originalPartition),
    originalOffset: headerString(headers, DLQ_HEADERS.originalOffset),
    consumerGroup: headerString(headers, DLQ_HEADERS.consumerGroup),
    error: headerString(headers, DLQ_HEADERS.error),
    errorKind: headerString(headers, DLQ_HEADERS.errorKind) as DeadLetterInfo['errorKind'] | undefined,
    attempts: num(DLQ_HEADERS.attempts),
    failedAt: headerString(headers, DLQ_HEADERS.failedAt),
    replayCount: num(DLQ_HEADERS.replayCount) ?? 0,
    responseStatus: num(DLQ_HEADERS.responseStatus),
  };
}
