import type { Consumer, ConsumerConfig, ConsumerRunConfig, EachBatchPayload, Kafka } from 'kafkajs';
import { backoffDelay } from '../backoff.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from '../sleep.js';
import { unavailableService } from '../error-kind.js';
import { lostMembership } from './membership.js';

/** One consumer the supervisor made; `signal` aborts when it is replaced or the owner stops. */
export interface ConsumerIncarnation {
  consumer: Consumer;
  signal: AbortSignal;
}

export interface SupervisorLimits {
  /** Longest a consumer may go without a fetch, heartbeat, commit or batch before it is replaced. */
  idleMs: number;
  /** Replacements in a row (none followed by a stable membership) before giving up: `failed`. */
  maxRecreates: number;
  /** Wait before each replacement, growing while they keep failing. */
  backoff: { baseMs: number; maxMs: number };
  /** How long a replaced consumer gets to leave its group before it is abandoned. */
  leaveMs: number;
}

/**
 * Bounds derived from the group's timeouts: a member that fetches nothing for longer than a rebalance
 * plus a session (the longest a join legitimately blocks) is not consuming.
 */
export function supervisorLimits(sessionTimeoutMs: number, rebalanceTimeoutMs: number): SupervisorLimits {
  return {
    idleMs: sessionTimeoutMs + rebalanceTimeoutMs,
    maxRecreates: 5,
    backoff: { baseMs: 1_000, maxMs: 30_000 },
    leaveMs: sessionTimeoutMs,
  };
}

export type MembershipChange =
  { inGroup: true; assignment: Record<string, number[]> } | { inGroup: false; reason: string };

export interface ConsumerSupervisorOptions {
  kafka: Kafka;
  config: ConsumerConfig;
  topics: string[];
  /** The run options of one incarnation; its eachBatch commits through that incarnation's consumer. */
  run: (incarnation: ConsumerIncarnation) => ConsumerRunConfig & {
    eachBatch: (payload: EachBatchPayload) => Promise<void>;
  };
  logger: Logger;
  /** The owner's stop: ends a backoff at once. */
  signal: AbortSignal;
  onMembership?: (change: MembershipChange) => void;
  limits: SupervisorLimits;
}

interface Live extends ConsumerIncarnation {
  controller: AbortController;
  lastActivity: number;
  joinedAt?: number;
  lastCrash?: unknown;
}

const ACTIVITY = [
  'FETCH_START',
  'FETCH',
  'HEARTBEAT',
  'COMMIT_OFFSETS',
  'START_BATCH_PROCESS',
  'END_BATCH_PROCESS',
] as const;

/**
 * A kafkajs consumer that never stays out of its group. The one place that works around kafkajs
 * 2.2.4's liveness gaps:
 * - An error that says the member lost its membership (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
 *   REBALANCE_IN_PROGRESS) leaves eachBatch unwrapped: consumer.commitOffsets wraps it in its retrier's
 *   KafkaJSNonRetriableError, which runner.scheduleFetchManager does not recognise, so kafkajs crashes
 *   with restart:false instead of rejoining (kafkajs #1466, "Specified group generation id is not valid").
 * - A CRASH kafkajs does not restart (restart:false: any non-retriable error, kafkajs #1443, #1445), a
 *   restart that never rejoins, or a consumer alive but consuming nothing (kafkajs #1513: no fetch,
 *   heartbeat, commit or batch for `idleMs`) is replaced: old one aborted and disconnected (abandoned
 *   after `leaveMs` if a batch holds it), new one created, subscribed and run, after a backoff.
 * After `maxRecreates` replacements in a row that do not hold, `failed` rejects (the process exits
 * non-zero). A Kafka outage (the cluster unreachable) is waited out and never counts towards that.
 */
export class ConsumerSupervisor {
  /** Rejects once the supervisor gives up; never resolves. */
  readonly failed: Promise<never>;
  private fail!: (err: Error) => void;
  private joinedOnce!: () => void;
  private readonly firstJoin: Promise<void>;
  private current?: Live;
  private failures = 0;
  private recreation?: Promise<void>;
  private watchdog?: NodeJS.Timeout;
  private stopped = false;
  private stopping?: Promise<void>;
  /** Aborted by stop() or the owner's signal: ends a backoff at once. */
  private readonly halt: AbortController = new AbortController();

  constructor(private readonly options: ConsumerSupervisorOptions) {
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    this.failed.catch(() => undefined); // observed by whoever awaits it
    this.firstJoin = new Promise<void>((resolve) => (this.joinedOnce = resolve));
    if (options.signal.aborted) this.halt.abort();
    options.signal.addEventListener('abort', () => this.halt.abort(), { once: true });
  }

  /** The consumer in use (for pause/resume and tests). */
  get consumer(): Consumer | undefined {
    return this.current?.consumer;
  }

  /**
   * Connects, subscribes and runs the first consumer; resolves once a consumer joined the group.
   * Throws if the first connect or subscribe fails (the caller cleans up), or rejects like `failed`.
   */
  async start(): Promise<void> {
    await this.spawn();
    const { idleMs } = this.options.limits;
    this.watchdog = setInterval(() => this.check(), Math.min(5_000, Math.max(100, idleMs / 4)));
    await Promise.race([this.firstJoin, this.failed]);
  }

  /** Leaves the group (waiting for the running batch) and replaces nothing any more. Safe to call twice. */
  stop(): Promise<void> {
    return (this.stopping ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.halt.abort();
    clearInterval(this.watchdog);
    await this.recreation;
    const live = this.current;
    this.current = undefined;
    live?.controller.abort();
    await live?.consumer.disconnect();
  }

  private async spawn(): Promise<void> {
    const { kafka, config, topics, logger } = this.options;
    const consumer = kafka.consumer(config);
    const controller = new AbortController();
    const live: Live = {
      consumer,
      controller,
      signal: AbortSignal.any([this.halt.signal, controller.signal]),
      lastActivity: Date.now(),
    };
    this.current = live;
    const mine = () => this.current === live;
    const touch = () => {
      if (mine()) live.lastActivity = Date.now();
    };
    for (const name of ACTIVITY) consumer.on(consumer.events[name], touch);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (!mine()) return;
      touch();
      live.joinedAt = Date.now();
      live.lastCrash = undefined;
      this.joinedOnce();
      this.options.onMembership?.({ inGroup: true, assignment: payload.memberAssignment });
    });
    consumer.on(consumer.events.REBALANCING, () => {
      if (mine()) this.options.onMembership?.({ inGroup: false, reason: 'rebalancing' });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!mine()) return;
      live.lastCrash = payload.error;
      logger.error({ err: errorMessage(payload.error), restart: payload.restart }, 'consumer crashed');
      this.options.onMembership?.({ inGroup: false, reason: 'crashed' });
      // kafkajs restarts it itself when restart is true; the watchdog replaces it if that never rejoins.
      if (!payload.restart) this.replace('kafkajs will not restart it');
    });

    const run = this.options.run(live);
    const eachBatch = run.eachBatch;
    try {
      await consumer.connect();
      for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        ...run,
        eachBatch: async (payload) => {
          try {
            await eachBatch(payload);
          } catch (err) {
            const lost = lostMembership(err);
            if (lost && mine()) this.options.onMembership?.({ inGroup: false, reason: lost.type });
            throw lost ?? err; // unwrapped, kafkajs rejoins (see the class comment)
          }
        },
      });
    } catch (err) {
      // Leave nothing connected behind a failed start.
      if (mine()) this.current = undefined;
      controller.abort();
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    if (this.stopped && mine()) {
      // stop() came while this one was starting (it waits for the replacement that called us).
      this.current = undefined;
      controller.abort();
      await consumer.disconnect();
    }
  }

  private check(): void {
    const live = this.current;
    if (!live || this.stopped || this.recreation) return;
    const quiet = Date.now() - live.lastActivity;
    if (quiet > this.options.limits.idleMs) this.replace(`no fetch, heartbeat or batch for ${quiet} ms`);
  }

  private replace(reason: string): void {
    if (this.stopped || this.recreation) return;
    this.recreation = this.recreate(reason).finally(() => (this.recreation = undefined));
  }

  private async recreate(reason: string): Promise<void> {
    const { logger, limits } = this.options;
    let cause: unknown = this.current?.lastCrash;
    for (let attempt = 1; ; attempt++) {
      const old = this.current;
      this.current = undefined;
      // A membership that held for a while proves the last replacement worked.
      if (old?.joinedAt !== undefined && Date.now() - old.joinedAt >= limits.idleMs) this.failures = 0;
      const outage = cause !== undefined && unavailableService(cause) === 'Kafka';
      if (!outage) this.failures += 1;
      if (this.failures > limits.maxRecreates) {
        this.fail(
          new Error(
            `consumer out of its group after ${limits.maxRecreates} replacements (${reason}): ${errorMessage(cause ?? reason)}`,
          ),
        );
        if (old) await this.retire(old);
        return;
      }
      this.options.onMembership?.({ inGroup: false, reason });
      const delayMs = backoffDelay(attempt, { ...limits.backoff, jitter: 0.5 });
      logger.warn(
        {
          reason,
          err: cause === undefined ? undefined : errorMessage(cause),
          attempt,
          failures: this.failures,
          delayMs,
        },
        'consumer out of its group: replacing it',
      );
      if (old) await this.retire(old);
      if (!(await sleep(delayMs, this.halt.signal)) || this.stopped) return;
      try {
        await this.spawn();
        return;
      } catch (err) {
        reason = 'a new consumer could not start';
        cause = err;
      }
    }
  }

  /** Aborts its batches and leaves the group; a batch that holds on past `leaveMs` is abandoned. */
  private async retire(live: Live): Promise<void> {
    live.controller.abort();
    // After disconnect starts, kafkajs stops committing for it (runner.commitOffsets checks running).
    const deadline = new AbortController();
    const left = await Promise.race([
      live.consumer.disconnect().then(
        () => true,
        () => true,
      ),
      sleep(this.options.limits.leaveMs, deadline.signal).then(() => false),
    ]);
    deadline.abort();
    if (!left) this.options.logger.warn('the replaced consumer did not leave in time; abandoned');
  }
}
