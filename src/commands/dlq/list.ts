import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { deadLetterTopicFlag, offsetFlag } from '../../lib/cli/flags.js';
import { deadLetterTopicOf } from '../../lib/kafka/topics.js';
import { listDeadLetters } from '../../lib/kafka/dead-letter-list.js';
import type { DeadLetterView } from '../../lib/kafka/dead-letter-view.js';
import { deadLetterColumns } from '../../lib/cli/dead-letter-columns.js';

export default class DlqList extends BaseCommand<typeof DlqList> {
  static override summary = 'List dead letters without disturbing any consumer group.';
  static override description =
    'Reads from the start (or --from-offset) up to the end offsets at the time of the call, through a ' +
    'throwaway group that never commits and is deleted afterwards.';
  static override examples = [
    '<%= config.bin %> dlq list',
    '<%= config.bin %> dlq list --topic order-events.dlq --limit 20 --json',
  ];
  static override flags = {
    topic: deadLetterTopicFlag(),
    limit: Flags.integer({ default: 100, min: 1, max: 100_000, summary: 'At most this many letters.' }),
    'from-offset': offsetFlag({ summary: 'Start at this offset instead of the earliest.' }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<{ topic: string; letters: DeadLetterView[] }> {
    const { kafka } = this.appConfig;
    const topic = deadLetterTopicOf(kafka, this.flags.topic);
    const progress = this.progress(`reading ${topic}`, `could not read ${topic}`);
    const letters = await listDeadLetters(this.kafka(), {
      topic,
      limit: this.flags.limit,
      fromOffset: this.flags['from-offset'],
      groupPrefix: this.appConfig.kafka.groupId,
      signal: this.signal,
    });
    progress.succeed(`${letters.length} dead letter(s) in ${topic}`);
    this.table(letters, deadLetterColumns);
    return { topic, letters };
  }
}
