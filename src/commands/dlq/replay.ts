import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { deadLetterTopicFlag } from '../../lib/cli/flags.js';
import { deadLetterTopicOf } from '../../lib/kafka/topics.js';
import { deadLetterColumns } from '../../lib/cli/dead-letter-columns.js';
import { replayDeadLetters, type ReplayResult } from '../../jobs/dlq-replay/dlq-replay.js';

export default class DlqReplay extends BaseCommand<typeof DlqReplay> {
  static override summary = 'Republish dead letters to their original topic, keeping replay progress.';
  static override description =
    'Same key and value, x-replay-count + 1, idempotent producer with acks=all. Progress is the ' +
    "replay group's committed offset, stored after each acknowledged publish. Letters without " +
    'x-original-topic are reported and skipped. --dry-run publishes and commits nothing.';
  static override examples = [
    '<%= config.bin %> dlq replay --dry-run',
    '<%= config.bin %> dlq replay --topic order-events.dlq --limit 10',
    '<%= config.bin %> dlq replay --event-id 3f0c... --json',
  ];
  static override flags = {
    topic: deadLetterTopicFlag(),
    limit: Flags.integer({ default: 1000, min: 1, max: 1_000_000, summary: 'At most this many letters.' }),
    'event-id': Flags.string({ summary: 'Replay only letters of this event id.' }),
    'dry-run': Flags.boolean({ default: false, summary: 'Show what would be replayed; publish nothing.' }),
    group: Flags.string({ summary: 'Group holding replay progress (default <KAFKA_GROUP_ID>-dlq-replay).' }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<ReplayResult> {
    const { kafka } = this.appConfig;
    const topic = deadLetterTopicOf(kafka, this.flags.topic);
    const progress = this.progress(
      `replaying ${topic}`,
      'replay failed: progress is kept up to the last acknowledged letter',
    );
    const result = await replayDeadLetters(this.kafka(), {
      topic,
      group: this.flags.group ?? `${kafka.groupId}-dlq-replay`,
      limit: this.flags.limit,
      eventId: this.flags['event-id'],
      dryRun: this.flags['dry-run'],
      signal: this.signal,
      onProgress: (t) => progress.update(t),
    });
    progress.succeed(`${result.replayed} replayed, ${result.skipped} skipped`);
    this.table(result.letters, [{ header: 'Action', get: (l) => l.action }, ...deadLetterColumns]);
    if (result.dryRun) this.log('Dry run: nothing was published and no progress was stored.');
    return result;
  }
}
