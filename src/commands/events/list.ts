import { BaseCommand } from '../../lib/cli/base-command.js';
import { listEventTypes, type EventTypeInfo } from '../../lib/events/published.js';

export default class EventsList extends BaseCommand<typeof EventsList> {
  static override summary = 'Event types: their schema versions, the current one, topic and key.';
  static override description =
    'Every event type the pipeline carries, the schema versions this build reads (older ones are upcast ' +
    'to the current one), the version it writes, the topic (KAFKA_TOPIC_PREFIX applied) and the message key.';
  static override examples = ['<%= config.bin %> events list', '<%= config.bin %> events list --json'];

  static override exitCodes = [] as const;

  public async run(): Promise<{ types: EventTypeInfo[] }> {
    const types = listEventTypes(this.appConfig.kafka.topics);
    this.table(types, [
      { header: 'Type', get: (t) => t.eventType },
      { header: 'Versions', get: (t) => t.versions.map((v) => `v${v}`).join(', ') },
      { header: 'Current', get: (t) => `v${t.current}` },
      { header: 'Topic', get: (t) => t.topic },
      { header: 'Key', get: (t) => t.key },
    ]);
    return { types };
  }
}
