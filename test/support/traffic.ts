import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { eventHeaders } from '../../src/lib/kafka/event-headers.js';
import { encodeEvent, topicFor, type DomainEvent } from '../../src/lib/events/index.js';
import type { TestContext } from './context.js';

export interface Traffic {
  /** Every event published so far (acknowledged by Kafka). */
  readonly sent: DomainEvent[];
  /** Publishes one more round now (outside the schedule). */
  publish(events: DomainEvent[]): Promise<void>;
  /** Stops the schedule, waits for the round in flight; returns every event published. */
  stop(): Promise<DomainEvent[]>;
}

/**
 * Publishes `round(n)` every `everyMs` through one idempotent producer (as the relay does: keyed by
 * aggregate id, event headers, acks=all) until stopped: steady traffic while a test breaks something.
 */
export async function startTraffic(
  ctx: TestContext,
  round: (n: number) => DomainEvent[],
  everyMs: number,
): Promise<Traffic> {
  const producer = createIdempotentProducer(ctx.kafka);
  await producer.connect();
  const sent: DomainEvent[] = [];
  const publish = async (events: DomainEvent[]) => {
    const byTopic = new Map<string, DomainEvent[]>();
    for (const e of events) {
      const topic = topicFor(e, ctx.config.kafka.topics);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), e]);
    }
    await producer.sendBatch({
      ...SEND_ACKS_ALL,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((e) => ({ key: e.aggregateId, value: encodeEvent(e), headers: eventHeaders(e) })),
      })),
    });
    sent.push(...events);
  };
  let running = true;
  const loop = (async () => {
    for (let n = 1; running; n++) {
      await publish(round(n));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    sent,
    publish,
    async stop() {
      running = false;
      await loop;
      await producer.disconnect();
      return sent;
    },
  };
}
