import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { startCluster, type KafkaCluster } from '../support/kafka-cluster.js';
import { createIdempotentProducer, createKafka, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import { ConfigResourceTypes, ConfigSource } from '../../src/lib/kafka/kafkajs.js';
import { createEvent, decodeEvent, encodeEvent } from '../../src/lib/events/index.js';

type Topic = {
  name: string;
  created: boolean;
  actualPartitions: number;
  altered: string[];
  differences: Array<{ setting: string; actual: string; wanted: string }>;
};

describe('commerce kafka topics', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(() => ctx?.close());

  it('creates the topics and their dead-letter topics, then finds them on the second run', async () => {
    const first = await runCli(['kafka', 'topics', '--json'], ctx.env);
    expect(first.code).toBe(0);
    const names = first.json.topics.map((t: { name: string }) => t.name);
    expect(names).toEqual([
      `t${ctx.id}-catalog-events`,
      `t${ctx.id}-catalog-events.dlq`,
      `t${ctx.id}-order-events`,
      `t${ctx.id}-order-events.dlq`,
    ]);
    expect(first.json.topics.every((t: { created: boolean }) => t.created)).toBe(true);
    expect(first.json.topics[0].actualPartitions).toBe(3);
    // One broker, replication factor 1: min.insync.replicas 1 (the replication factor minus one, at least 1).
    expect(first.json.topics[0].actualConfigs).toEqual({
      'min.insync.replicas': '1',
      'unclean.leader.election.enable': 'false',
    });

    const second = await runCli(['kafka', 'topics', '--json'], ctx.env);
    expect(second.code).toBe(0);
    expect(second.json.topics.some((t: { created: boolean }) => t.created)).toBe(false);
    expect(second.json.topics.flatMap((t: Topic) => t.differences)).toEqual([]);
  });

  it('carries an event through the real broker: idempotent produce, consume, decode', async () => {
    const topic = ctx.config.kafka.topics.catalog;
    const event = createEvent('LikeChanged', 7, 1, { productId: 7, userId: 'u1', liked: true, likeCount: 1 });
    const producer = createIdempotentProducer(ctx.kafka);
    await producer.connect();
    await producer.send({
      topic,
      ...SEND_ACKS_ALL,
      messages: [{ key: event.aggregateId, value: encodeEvent(event) }],
    });
    await producer.disconnect();

    const consumer = ctx.kafka.consumer({ groupId: `${ctx.config.kafka.groupId}-smoke` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<ReturnType<typeof decodeEvent>>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(decodeEvent(message.value)) });
    });
    await consumer.disconnect();
    expect(received).toEqual(event);
  });

  it('a broker that cannot be reached gives exit code 4 once --timeout has passed', async () => {
    const result = await runCli(
      ['kafka', 'topics', '--timeout', '3s'],
      { ...ctx.env, KAFKA_BROKERS: '127.0.0.1:1' },
      90_000,
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Kafka is unavailable/);
  });

  it('refuses a min.insync.replicas no write could meet: exit 2 naming the flag, 3 naming the variable', async () => {
    // Replication factor 1 here (the default).
    for (const value of ['2', '0']) {
      const bad = await runCli(['kafka', 'topics', '--min-insync-replicas', value], ctx.env);
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toContain('--min-insync-replicas');
    }
    const env = await runCli(['kafka', 'topics', '--json'], { ...ctx.env, KAFKA_MIN_INSYNC_REPLICAS: '2' });
    expect(env.code).toBe(3);
    expect(env.json.error.message).toContain('KAFKA_MIN_INSYNC_REPLICAS');
  });
});

/**
 * Each topic's configs as the cluster describes them: value and where it comes from. Under KRaft the
 * broker asked may not host a topic created a moment ago yet (UNKNOWN_TOPIC_OR_PARTITION, a retriable
 * error): asked again until it does, for 10 s at most.
 */
async function describeTopicConfigs(
  kafka: Kafka,
  names: string[],
): Promise<Map<string, Record<string, { value: string; source: number }>>> {
  return withAdmin(kafka, async (admin) => {
    const describe = () =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
      });
    const { resources } = await eventually(
      () =>
        describe().catch((err: { type?: string }) => {
          if (err.type === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
          throw err;
        }),
      10_000,
      200,
    );
    return new Map(
      resources.map((r) => [
        r.resourceName,
        Object.fromEntries(
          r.configEntries.map((e) => [e.configName, { value: e.configValue, source: e.configSource }]),
        ),
      ]),
    );
  });
}

const onTopic = (value: string) => ({ value, source: ConfigSource.TOPIC_CONFIG });

describe('commerce kafka topics on a 3-broker cluster started a second earlier', () => {
  let cluster: KafkaCluster;
  let kafka: Kafka;
  let run = 0;
  const envFor = (prefix: string) => ({
    KAFKA_BROKERS: cluster.brokers.join(','),
    KAFKA_REPLICATION_FACTOR: '3',
    KAFKA_TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  });
  const prefix = () => `kt${process.pid}-${++run}-`;
  const pipeline = (p: string) =>
    ['catalog-events', 'catalog-events.dlq', 'order-events', 'order-events.dlq'].map((n) => p + n);

  beforeAll(async () => {
    cluster = await startCluster({ basePort: 29300 });
    kafka = createKafka({ brokers: cluster.brokers, clientId: 'kafka-topics-test' });
  }, 180_000);
  afterAll(() => cluster?.stop());

  it('exits 0 with every topic created, led, in sync, min.insync.replicas 2 and unclean election off set on it; a second run changes nothing', async () => {
    const p = prefix();
    const first = await runCli(['kafka', 'topics', '--json'], envFor(p), 120_000);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.topics.map((t: Topic) => [t.name, t.created])).toEqual(
      pipeline(p).map((n) => [n, true]),
    );
    expect(first.json.topics.flatMap((t: Topic) => t.differences)).toEqual([]);

    // Set on each topic, not inherited from the broker (this cluster's broker default is 2 as well).
    const configs = await describeTopicConfigs(kafka, pipeline(p));
    for (const name of pipeline(p)) {
      expect(configs.get(name)!['min.insync.replicas'], name).toEqual(onTopic('2'));
      expect(configs.get(name)!['unclean.leader.election.enable'], name).toEqual(onTopic('false'));
    }
    const { topics } = await withAdmin(kafka, (admin) => admin.fetchTopicMetadata({ topics: pipeline(p) }));
    for (const t of topics)
      for (const part of t.partitions) {
        expect(part.replicas, t.name).toHaveLength(3);
        expect(part.leader, t.name).toBeGreaterThanOrEqual(0);
        expect(part.isr.length, t.name).toBeGreaterThanOrEqual(2);
      }

    const second = await runCli(['kafka', 'topics', '--json'], envFor(p), 120_000);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.topics.map((t: Topic) => [t.name, t.created, t.differences])).toEqual(
      pipeline(p).map((n) => [n, false, []]),
    );
  }, 240_000);

  it('two concurrent runs both exit 0 and each topic is created by exactly one of them', async () => {
    const p = prefix();
    const args = ['kafka', 'topics', '--json', '--min-insync-replicas', '3'];
    const [a, b] = await Promise.all([runCli(args, envFor(p), 120_000), runCli(args, envFor(p), 120_000)]);
    expect([a.code, b.code], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
    for (const [i, name] of pipeline(p).entries()) {
      const made = [a.json.topics[i].created, b.json.topics[i].created].filter(Boolean);
      expect(made, name).toHaveLength(1);
    }
    const configs = await describeTopicConfigs(kafka, pipeline(p));
    for (const name of pipeline(p)) expect(configs.get(name)!['min.insync.replicas']).toEqual(onTopic('3'));
  }, 240_000);

  it('reports a topic created beforehand with other settings (exit 6); --alter-configs sets only its two configs and keeps the others', async () => {
    const p = prefix();
    const odd = `${p}catalog-events`;
    // No waitForLeaders: kafkajs's wait fails on a broker that does not host the partitions yet
    // (the very race the command itself waits out).
    await withAdmin(kafka, (admin) =>
      admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic: odd,
            numPartitions: 2,
            replicationFactor: 2,
            configEntries: [
              { name: 'min.insync.replicas', value: '1' },
              { name: 'unclean.leader.election.enable', value: 'true' },
              { name: 'retention.ms', value: '3600000' },
            ],
          },
        ],
      }),
    );
    const wanted = {
      partitions: ['2', '3'],
      'replication-factor': ['2', '3'],
      'min.insync.replicas': ['1', '2'],
      'unclean.leader.election.enable': ['true', 'false'],
    };
    const asDiffs = (settings: Array<keyof typeof wanted>) =>
      settings.map((setting) => ({ setting, actual: wanted[setting][0], wanted: wanted[setting][1] }));

    const table = await runCli(['kafka', 'topics'], envFor(p), 120_000);
    expect(table.code, table.stderr).toBe(6);
    expect(table.stdout).toContain('min.insync.replicas 1 (wants 2)');
    expect(table.stdout).toMatch(/1 topic\(s\) differ/);

    const report = await runCli(['kafka', 'topics', '--json'], envFor(p), 120_000);
    expect(report.code).toBe(6);
    const byName = new Map<string, Topic>(report.json.topics.map((t: Topic) => [t.name, t]));
    expect(byName.get(odd)!.differences).toEqual(asDiffs(Object.keys(wanted) as Array<keyof typeof wanted>));
    for (const name of pipeline(p).filter((n) => n !== odd))
      expect(byName.get(name)!.differences).toEqual([]);
    // Without --alter-configs the existing topic is left as it is.
    expect((await describeTopicConfigs(kafka, [odd])).get(odd)!['min.insync.replicas']).toEqual(onTopic('1'));

    const altered = await runCli(['kafka', 'topics', '--json', '--alter-configs'], envFor(p), 120_000);
    expect(altered.code, altered.stderr).toBe(6); // partitions and replicas are never changed
    const oddNow = (altered.json.topics as Topic[]).find((t) => t.name === odd)!;
    expect(oddNow.altered.sort()).toEqual(['min.insync.replicas', 'unclean.leader.election.enable']);
    expect(oddNow.differences).toEqual(asDiffs(['partitions', 'replication-factor']));
    // Under KRaft a describe goes to any broker, and each applies a config change from the metadata
    // log a moment after the controller acknowledged it: read until the one asked has it.
    const configs = await eventually(async () => {
      const now = (await describeTopicConfigs(kafka, [odd])).get(odd)!;
      return now['min.insync.replicas']?.value === '2' && now;
    }, 10_000);
    expect(configs['min.insync.replicas']).toEqual(onTopic('2'));
    expect(configs['unclean.leader.election.enable']).toEqual(onTopic('false'));
    expect(configs['retention.ms']).toEqual(onTopic('3600000'));
  }, 240_000);
});
