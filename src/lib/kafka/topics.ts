import type { Admin, Kafka } from 'kafkajs';
import { prefixedTopic, type AppConfig } from '../config/config.js';
import { InterruptedError, UnavailableError, UsageError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { unavailableService } from '../error-kind.js';
import { retry } from '../retry.js';
import { alterTopicConfigs, createTopic, isTransientTopicError, observeTopics } from './topic-admin.js';
import {
  MIN_INSYNC_REPLICAS,
  UNCLEAN_LEADER_ELECTION,
  alteredConfigs,
  configDifferences,
  differences,
  replicationFactorOf,
  unsettled,
  type ObservedTopic,
  type TopicDifference,
  type TopicSpec,
} from './topic-state.js';

export type { TopicDifference, TopicSpec } from './topic-state.js';

/** The dead-letter topic of a topic. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** The dead-letter topic a `--topic` flag names (unprefixed, like every flag's topic); catalog-events' by default. */
export function deadLetterTopicOf(config: AppConfig['kafka'], flag: string | undefined): string {
  return flag ? prefixedTopic(config, flag) : dlqTopic(config.topics.catalog);
}

/** The pipeline's topics: each event topic and its dead-letter topic. */
export function pipelineTopics(
  config: AppConfig['kafka'],
  minInsyncReplicas = config.minInsyncReplicas,
): TopicSpec[] {
  if (minInsyncReplicas > config.replicationFactor)
    throw new UsageError(
      `--min-insync-replicas ${minInsyncReplicas} is more than the replication factor ` +
        `(KAFKA_REPLICATION_FACTOR=${config.replicationFactor}): no acks=all write could succeed`,
    );
  const configs = {
    [MIN_INSYNC_REPLICAS]: String(minInsyncReplicas),
    [UNCLEAN_LEADER_ELECTION]: 'false',
  };
  const specs: TopicSpec[] = [];
  for (const name of [config.topics.catalog, config.topics.order]) {
    specs.push({
      name,
      partitions: config.partitions,
      replicationFactor: config.replicationFactor,
      role: 'events',
      configs,
    });
    // Dead letters are few and replayed by hand: one partition keeps them in failure order.
    specs.push({
      name: dlqTopic(name),
      partitions: 1,
      replicationFactor: config.replicationFactor,
      role: 'dead-letter',
      configs,
    });
  }
  return specs;
}

export interface TopicState extends TopicSpec {
  /** Created by this run (false: it existed, or a concurrent run created it first). */
  created: boolean;
  actualPartitions: number;
  actualReplicationFactor: number;
  actualConfigs: TopicSpec['configs'];
  /** Configs this run altered (only with alterConfigs). */
  altered: string[];
  /** Where the topic still differs from its spec (empty: as asked). */
  differences: TopicDifference[];
}

export interface EnsureTopicsOptions {
  /** How long to wait for the cluster to settle (default 60 s). */
  timeoutMs?: number;
  /** Alter the managed configs of existing topics that differ (partitions and replicas are never changed). */
  alterConfigs?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Creates the missing topics with their configs, then waits until every partition of every topic has a
 * leader and enough in-sync replicas, and reports each topic with what differs from its spec. Idempotent
 * and safe to run concurrently. A fresh cluster answers "no such topic" for a while after a create (its
 * brokers apply the metadata one by one) and may have fewer brokers registered than the replication
 * factor: every such answer, and every outage, is retried until the deadline (then UnavailableError).
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<TopicState[]> {
  const { timeoutMs = 60_000, alterConfigs = false, signal, logger } = options;
  const deadline = Date.now() + timeoutMs;
  const created = new Set<string>();
  const altered = new Map<string, string[]>();
  const admin = kafka.admin();
  let connected = false;
  const round = async () => {
    if (!connected) {
      await admin.connect();
      connected = true;
    }
    const result = await oneRound(admin, specs, { created, altered, alterConfigs });
    if (typeof result === 'string') throw new NotSettled(result);
    return result;
  };
  try {
    return await retry(round, {
      attempts: Infinity,
      deadline,
      signal,
      backoff: { baseMs: 200, maxMs: 2_000, jitter: 0.5 },
      retryIf: (err) => err instanceof NotSettled || isTransientTopicError(err),
      onRetry: (err, attempt) =>
        logger?.debug(
          { attempt, reason: errorMessage(err) },
          'kafka topics: waiting for the cluster to settle',
        ),
    });
  } catch (err) {
    if (signal?.aborted)
      throw new InterruptedError(signal, 'run it again: every step is idempotent', 'kafka topics');
    if (err instanceof NotSettled)
      throw new UnavailableError('Kafka', `topics not settled after ${timeoutMs / 1000}s: ${err.message}`);
    throw isTransientTopicError(err) ? asUnavailable(err) : err;
  } finally {
    // Also after a failed connect: kafkajs may hold a seed broker's socket.
    await admin.disconnect().catch(() => undefined);
  }
}

/** A round that found the topics not settled yet (the reason): retried until the deadline. */
class NotSettled extends Error {}

/** An outage keeps its own error (exit 4 naming the brokers); a cluster that never settled is unavailable too. */
function asUnavailable(err: unknown): unknown {
  return unavailableService(err) ? err : new UnavailableError('Kafka', errorMessage(err), err);
}

/**
 * One pass: create what is missing, look, alter configs if asked; the topics' states once settled, or
 * why not yet (a reason to wait). Every step is idempotent, so a pass that fails halfway is simply redone.
 */
async function oneRound(
  admin: Admin,
  specs: TopicSpec[],
  state: { created: Set<string>; altered: Map<string, string[]>; alterConfigs: boolean },
): Promise<TopicState[] | string> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  // One topic per request: a concurrent run's TOPIC_ALREADY_EXISTS then says which one it made.
  for (const spec of missing) if (await createTopic(admin, spec)) state.created.add(spec.name);
  // Asked about a topic it has not applied yet, a broker answers "This server does not host this
  // topic-partition" (and kafkajs logs it as an error): describe them once a listing shows them all.
  if (missing.length > 0) return `created ${missing.map((s) => s.name).join(', ')}; waiting for the metadata`;
  const observed = await observeTopics(
    admin,
    specs.map((s) => s.name),
  );
  for (const spec of specs) {
    const why = unsettled(spec.name, observed.get(spec.name));
    if (why) return why;
  }
  if (state.alterConfigs) {
    const toAlter = new Map<string, Record<string, string>>();
    for (const spec of specs) {
      const topic = observed.get(spec.name)!;
      const diffs = configDifferences(differences(spec, topic));
      if (diffs.length === 0) continue;
      toAlter.set(spec.name, alteredConfigs(spec, topic));
      state.altered.set(spec.name, [
        ...new Set([...(state.altered.get(spec.name) ?? []), ...diffs.map((d) => d.setting)]),
      ]);
    }
    if (toAlter.size > 0) {
      await alterTopicConfigs(admin, toAlter);
      return `altered the configs of ${[...toAlter.keys()].join(', ')}; reading them back`;
    }
  }
  return specs.map((spec) => stateOf(spec, observed.get(spec.name)!, state));
}

function stateOf(
  spec: TopicSpec,
  topic: ObservedTopic,
  state: { created: Set<string>; altered: Map<string, string[]> },
): TopicState {
  return {
    ...spec,
    created: state.created.has(spec.name),
    actualPartitions: topic.partitions.length,
    actualReplicationFactor: replicationFactorOf(topic),
    actualConfigs: {
      [MIN_INSYNC_REPLICAS]: topic.configs[MIN_INSYNC_REPLICAS] ?? '',
      [UNCLEAN_LEADER_ELECTION]: topic.configs[UNCLEAN_LEADER_ELECTION] ?? '',
    },
    altered: state.altered.get(spec.name) ?? [],
    differences: differences(spec, topic),
  };
}
