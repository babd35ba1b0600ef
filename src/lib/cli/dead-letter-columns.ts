import type { Column } from './table.js';
import type { DeadLetterView } from '../kafka/dead-letter-view.js';

/** The columns `dlq list` and `dlq replay` print for a letter. */
export const deadLetterColumns: Column<DeadLetterView>[] = [
  {
    header: 'Offset',
    get: (l) => (l.partition === 0 ? l.offset : `${l.partition}:${l.offset}`),
    align: 'right',
  },
  { header: 'Key', get: (l) => l.key },
  { header: 'Event type', get: (l) => l.eventType },
  {
    header: 'Original',
    get: (l) =>
      l.originalTopic
        ? `${l.originalTopic}[${l.originalPartition ?? '?'}]@${l.originalOffset ?? '?'}`
        : '(no header)',
  },
  { header: 'Error', get: (l) => (l.error && l.error.length > 60 ? `${l.error.slice(0, 57)}...` : l.error) },
  { header: 'Failed at', get: (l) => l.failedAt },
  { header: 'Replays', get: (l) => l.replayCount, align: 'right' },
];
