import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { pipelineTopics } from '../../src/lib/kafka/topics.js';
import { isTransientTopicError } from '../../src/lib/kafka/topic-admin.js';
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from '../../src/lib/kafka/kafkajs.js';
import {
  alteredConfigs,
  configDifferences,
  differences,
  unsettled,
  type ObservedTopic,
  type TopicSpec,
} from '../../src/lib/kafka/topic-state.js';

const spec = (over: Partial<TopicSpec> = {}): TopicSpec => ({
  name: 'order-events',
  partitions: 3,
  replicationFactor: 3,
  role: 'events',
  configs: { 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' },
  ...over,
});

const observed = (over: Partial<ObservedTopic> = {}): ObservedTopic => ({
  name: 'order-events',
  partitions: [0, 1, 2].map((partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
  })),
  configs: {
    'min.insync.replicas': '2',
    'unclean.leader.election.enable': 'false',
    'retention.ms': '604800000',
  },
  topicConfigs: { 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' },
  ...over,
});

describe('kafka topics: the specs', () => {
  it('min.insync.replicas defaults to the replication factor minus one, at least 1; unclean election off', () => {
    const minIsr = (env: Record<string, string>) =>
      pipelineTopics(loadConfig(env).kafka).map((s) => s.configs['min.insync.replicas']);
    expect(minIsr({})).toEqual(['1', '1', '1', '1']);
    expect(minIsr({ KAFKA_REPLICATION_FACTOR: '2' })).toEqual(['1', '1', '1', '1']);
    expect(minIsr({ KAFKA_REPLICATION_FACTOR: '3' })).toEqual(['2', '2', '2', '2']);
    expect(minIsr({ KAFKA_REPLICATION_FACTOR: '5', KAFKA_MIN_INSYNC_REPLICAS: '3' })).toEqual([
      '3',
      '3',
      '3',
      '3',
    ]);
    const config = loadConfig({ KAFKA_REPLICATION_FACTOR: '3' }).kafka;
    expect(pipelineTopics(config, 3).every((s) => s.configs['min.insync.replicas'] === '3')).toBe(true);
    expect(pipelineTopics(config).every((s) => s.configs['unclean.leader.election.enable'] === 'false')).toBe(
      true,
    );
  });

  it('KAFKA_MIN_INSYNC_REPLICAS above the replication factor, or not a positive integer, is a config error naming it', () => {
    for (const env of [
      { KAFKA_MIN_INSYNC_REPLICAS: '2' },
      { KAFKA_MIN_INSYNC_REPLICAS: '0' },
      { KAFKA_MIN_INSYNC_REPLICAS: 'x' },
    ]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/KAFKA_MIN_INSYNC_REPLICAS/);
    }
  });
});

describe('kafka topics: settled and differences', () => {
  it('settles once every partition has a leader and the topic’s own min.insync.replicas in sync', () => {
    expect(unsettled('t', undefined)).toBe('t: no metadata yet');
    expect(unsettled('t', observed({ partitions: [] }))).toBe('t: no metadata yet');
    const parts = observed().partitions;
    expect(unsettled('t', observed())).toBeUndefined();
    expect(unsettled('t', observed({ partitions: [parts[0]!, { ...parts[1]!, leader: -1 }] }))).toBe(
      't/1: no leader',
    );
    expect(unsettled('t', observed({ partitions: [{ ...parts[0]!, isr: [1] }] }))).toBe(
      't/0: 1 in-sync replica(s) of 2 needed',
    );
    expect(unsettled('t', observed({ partitions: [{ ...parts[0]!, isr: [1, 2] }] }))).toBeUndefined();
    // A topic with a lower min.insync.replicas, or fewer replicas, than asked settles: it is reported, not waited for.
    const lax = observed({
      configs: { 'min.insync.replicas': '1' },
      partitions: [{ ...parts[0]!, isr: [1] }],
    });
    expect(unsettled('t', lax)).toBeUndefined();
    expect(
      unsettled('t', observed({ partitions: [{ ...parts[0]!, replicas: [1], isr: [1] }] })),
    ).toBeUndefined();
  });

  it('lists each setting that differs: partitions, replication factor, the two configs', () => {
    expect(differences(spec(), observed())).toEqual([]);
    const odd = observed({
      partitions: [0, 1].map((partitionId) => ({ partitionId, leader: 1, replicas: [1, 2], isr: [1, 2] })),
      configs: { 'min.insync.replicas': '1', 'unclean.leader.election.enable': 'true' },
    });
    const diffs = differences(spec(), odd);
    expect(diffs).toEqual([
      { setting: 'partitions', actual: '2', wanted: '3' },
      { setting: 'replication-factor', actual: '2', wanted: '3' },
      { setting: 'min.insync.replicas', actual: '1', wanted: '2' },
      { setting: 'unclean.leader.election.enable', actual: 'true', wanted: 'false' },
    ]);
    expect(configDifferences(diffs).map((d) => d.setting)).toEqual([
      'min.insync.replicas',
      'unclean.leader.election.enable',
    ]);
  });

  it('alters with the topic’s own configs kept (kafkajs’ AlterConfigs replaces them all)', () => {
    const topic = observed({ topicConfigs: { 'retention.ms': '3600000', 'min.insync.replicas': '1' } });
    expect(alteredConfigs(spec(), topic)).toEqual({
      'retention.ms': '3600000',
      'min.insync.replicas': '2',
      'unclean.leader.election.enable': 'false',
    });
  });

  it('retries what a settling cluster answers, not what will not change', () => {
    const protocol = (type: string, code: number, retriable: boolean) =>
      // How kafkajs builds them from a response's error code (its constructor's type says less).
      new KafkaJSProtocolError({ message: type, type, code, retriable } as unknown as Error);
    expect(isTransientTopicError(protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true))).toBe(true);
    expect(isTransientTopicError(protocol('TOPIC_ALREADY_EXISTS', 36, false))).toBe(true);
    expect(isTransientTopicError(protocol('INVALID_REPLICATION_FACTOR', 38, false))).toBe(true);
    expect(isTransientTopicError(protocol('POLICY_VIOLATION', 44, false))).toBe(false);
    expect(isTransientTopicError(protocol('TOPIC_AUTHORIZATION_FAILED', 29, false))).toBe(false);
    // kafkajs' retrier gives up with a non-retriable error around the last one.
    const gaveUp = Object.assign(new KafkaJSNonRetriableError('gave up'), {
      cause: protocol('NOT_CONTROLLER', 41, true),
    });
    expect(gaveUp.retriable).toBe(false);
    expect(isTransientTopicError(gaveUp)).toBe(true);
    const aggregate = {
      name: 'KafkaJSAggregateError',
      errors: [protocol('TOPIC_ALREADY_EXISTS', 36, false)],
    };
    expect(isTransientTopicError(aggregate)).toBe(true);
    expect(isTransientTopicError({ ...aggregate, errors: [protocol('INVALID_CONFIG', 40, false)] })).toBe(
      false,
    );
    expect(isTransientTopicError(new Error('bug'))).toBe(false);
  });
});
