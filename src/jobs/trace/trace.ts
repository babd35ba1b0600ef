import type { Admin } from 'kafkajs';
import type { AppConfig } from '../../lib/config/config.js';
import { DEFAULT_TRACE_LIMIT, DEFAULT_TRACE_TIMEOUT_MS } from '../../lib/cli/trace-flags.js';
import { createPool } from '../../lib/db/pool.js';
import { unavailableService } from '../../lib/error-kind.js';
import { CliError, ExitCode, UnavailableError, errorMessage } from '../../lib/errors.js';
import { createKafka } from '../../lib/kafka/client.js';
import { openPartitionFetcher, type PartitionFetcher } from '../../lib/kafka/partition-fetch.js';
import type { Logger } from '../../lib/log.js';
import { NoAnswerError, withinTimeout } from '../../lib/timeout.js';
import { checkId, readDatabase, type DatabasePart } from './database.js';
import { readKafka, type KafkaPart, type WantedEvent } from './kafka.js';
import { renderTrace } from './render.js';
import { buildEvents, tracePayment } from './timeline.js';
import type { SourceStatus, TraceKind, TraceReport } from './types.js';

export type { TraceReport } from './types.js';

export interface TraceOptions {
  kind: TraceKind;
  id: string;
  /** Each source's timeout (PostgreSQL; each part of Kafka). */
  timeoutMs?: number;
  /** The aggregate's latest events shown. */
  limit?: number;
  /** Compare these consumer groups instead of those discovered on the broker. */
  groups?: string[];
}

/**
 * `trace`: one aggregate's (or one event's) way through the pipeline, from what is already recorded
 * (outbox, inbox, payments) and the broker (positions, groups' offsets and lag, dead letters). Reads
 * only, on clients of its own with short timeouts and no retries. PostgreSQL first: without it there
 * is nothing to trace (UnavailableError, exit 4). Kafka not answering leaves the database's part,
 * with `complete` false and a note naming it (the command exits 4 after printing).
 */
export async function runTrace(
  deps: { config: AppConfig; logger: Logger },
  options: TraceOptions,
): Promise<TraceReport> {
  const { config, logger } = deps;
  const id = checkId(options.kind, options.id);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TRACE_TIMEOUT_MS;
  const limit = options.limit ?? DEFAULT_TRACE_LIMIT;
  const sources: SourceStatus[] = [];

  const db = await readPostgres(config, logger, options.kind, id, limit, timeoutMs, sources);
  const kafka = await readBroker(config, logger, db, options.groups, timeoutMs, sources);

  const notes: string[] = [];
  for (const s of sources) if (!s.reachable) notes.push(`${s.name} was not reachable: ${s.error}`);
  for (const s of sources)
    if (s.reachable && s.error) notes.push(`${s.name} answered only in part: ${s.error}`);
  if (db.totalEvents > db.outbox.length && options.kind !== 'event')
    notes.push(`showing the latest ${db.outbox.length} of ${db.totalEvents} events (--limit)`);
  const lowest = db.outbox[0] ? Number(db.outbox[0].aggregate_version) : null;
  if (options.kind !== 'event' && db.totalEvents <= db.outbox.length && lowest !== null && lowest > 1)
    notes.push(
      `versions before ${lowest} are no longer in the outbox (outbox cleanup deletes published rows)`,
    );
  if (options.kind !== 'event' && db.totalEvents === 0) notes.push('no event of it is in the outbox');
  return {
    target: { kind: options.kind, id },
    aggregate: db.aggregate,
    events: buildEvents(db, kafka),
    totalEvents: db.totalEvents,
    payments: db.payments?.map(tracePayment) ?? null,
    groups: kafka?.groups?.map((g) => g.groupId) ?? null,
    sources,
    notes,
    complete: sources.every((s) => s.reachable && !s.error),
  };
}

async function readPostgres(
  config: AppConfig,
  logger: Logger,
  kind: TraceKind,
  id: string,
  limit: number,
  timeoutMs: number,
  sources: SourceStatus[],
): Promise<DatabasePart> {
  const started = Date.now();
  const pool = createPool(
    { url: config.database.url, poolMax: 2, applicationName: 'commerce-trace' },
    logger,
  );
  try {
    const db = await withinTimeout(readDatabase(pool, kind, id, limit), timeoutMs, 'PostgreSQL');
    sources.push({ name: 'PostgreSQL', reachable: true, durationMs: Date.now() - started });
    return db;
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof NoAnswerError || unavailableService(err))
      throw new UnavailableError('PostgreSQL', `${errorMessage(err)}: nothing to trace without it`, err);
    throw err;
  } finally {
    await closing(pool.end());
  }
}

async function readBroker(
  config: AppConfig,
  logger: Logger,
  db: DatabasePart,
  groups: string[] | undefined,
  timeoutMs: number,
  sources: SourceStatus[],
): Promise<KafkaPart | null> {
  const started = Date.now();
  const kafka = createKafka(config.kafka, logger, {
    connectionTimeout: Math.min(timeoutMs, 2_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const clients: { admin?: Admin; fetcher?: PartitionFetcher } = {};
  try {
    const connected = withinTimeout(
      (async () => {
        const admin = kafka.admin();
        clients.admin = admin;
        await admin.connect();
        clients.fetcher = await openPartitionFetcher(kafka);
        return { admin, fetcher: clients.fetcher };
      })(),
      timeoutMs,
      'connect',
    );
    const part = await readKafka(await connected, wanted(db, config), {
      groups,
      replayGroup: `${config.kafka.groupId}-dlq-replay`,
      timeoutMs,
    });
    sources.push({
      name: 'Kafka',
      reachable: true,
      durationMs: Date.now() - started,
      ...(part.errors.length > 0 ? { error: part.errors.join('; ') } : {}),
    });
    return part;
  } catch (err) {
    sources.push({
      name: 'Kafka',
      reachable: false,
      error: `${config.kafka.brokers.join(',')}: ${errorMessage(err)}`,
      durationMs: Date.now() - started,
    });
    return null;
  } finally {
    await closing(Promise.all([clients.fetcher?.close(), clients.admin?.disconnect()]));
  }
}

/**
 * Waits for a client's close, at most a second: a pool whose query hangs on a server that does not
 * answer would wait for it (the command's leak check ends the process if a socket stays open).
 */
async function closing(close: Promise<unknown>): Promise<void> {
  await withinTimeout(close, 1_000, 'close').catch(() => undefined);
}

function wanted(db: DatabasePart, config: AppConfig): WantedEvent[] {
  const topicOf = (type: string | null) =>
    type === 'product' ? config.kafka.topics.catalog : config.kafka.topics.order;
  const fromOutbox = db.outbox.map((o): WantedEvent => {
    const i = db.inbox.get(o.event_id);
    return {
      eventId: o.event_id,
      topic: i?.topic ?? o.topic,
      key: o.partition_key,
      audited:
        i && i.partition !== null && i.offset !== null ? { partition: i.partition, offset: i.offset } : null,
      published: o.published_at
        ? { notBefore: o.created_at.getTime(), notAfter: o.published_at.getTime() }
        : null,
    };
  });
  const fromInbox = db.inboxOnly.map((i): WantedEvent => ({
    eventId: i.event_id,
    topic: i.topic ?? topicOf(i.aggregate_type),
    key: i.aggregate_id ?? '',
    audited: i.partition !== null && i.offset !== null ? { partition: i.partition, offset: i.offset } : null,
    published: null,
  }));
  return [...fromOutbox, ...fromInbox];
}

/** The exit code of a printed trace: 0 when every source answered, 4 when one did not (named in the notes). */
export function traceExitCode(report: TraceReport): number {
  return report.complete ? ExitCode.OK : ExitCode.UNAVAILABLE;
}

/**
 * What every `trace` command does once its flags are parsed: trace, print the timeline, and set the
 * exit code from the report (the report is the output, so this is not an error).
 */
export async function traceCommand(
  deps: { config: AppConfig; logger: Logger; log: (text: string) => void },
  target: { kind: TraceKind; id: string },
  flags: { limit?: number; group?: string[]; timeout?: number },
): Promise<TraceReport> {
  const report = await runTrace(deps, {
    ...target,
    limit: flags.limit,
    groups: flags.group,
    timeoutMs: flags.timeout,
  });
  deps.log(renderTrace(report));
  process.exitCode = traceExitCode(report);
  return report;
}
