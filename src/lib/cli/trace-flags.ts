import { Flags } from '@oclif/core';
import { UsageError } from '../errors.js';
import { parseDurationInput } from './flags.js';

/** `trace`'s defaults (src/jobs/trace applies them): each source's timeout, the events shown. */
export const DEFAULT_TRACE_TIMEOUT_MS = 5_000;
export const DEFAULT_TRACE_LIMIT = 50;
/** A source that has not answered in two minutes will not: longer would only keep the operator waiting. */
const MAX_TRACE_TIMEOUT_MS = 120_000;

const traceTimeout = Flags.custom<number>({
  helpValue: '<duration>',
  parse: async (input) => {
    const ms = parseDurationInput(input);
    if (ms < 1 || ms > MAX_TRACE_TIMEOUT_MS)
      throw new UsageError(`--timeout must be between 1ms and ${MAX_TRACE_TIMEOUT_MS / 1000}s, got ${input}`);
    return ms;
  },
});

/** The flags every `trace` command shares (order, product, event, and `trace <kind> <id>`). */
export const traceFlags = {
  limit: Flags.integer({
    min: 1,
    max: 1_000,
    summary: `The aggregate's latest events to show (default ${DEFAULT_TRACE_LIMIT}).`,
  }),
  group: Flags.string({
    multiple: true,
    summary:
      'Compare these consumer groups (repeatable) instead of every group the broker says consumes the topic.',
  }),
  timeout: traceTimeout({
    summary: `How long each source (PostgreSQL, each part of Kafka) may take (default ${DEFAULT_TRACE_TIMEOUT_MS}ms).`,
  }),
};

export const TRACE_DESCRIPTION =
  'One timeline, oldest first: each event with its outbox row (status, attempts, last error, written and ' +
  'published), where it is on Kafka (topic, partition, offset), when each handler applied it, every consumer ' +
  'group that has or has not consumed it (with its lag on that partition in messages and seconds), its dead ' +
  'letters (error, replayed or not), the times between hops, and for an order its payments. Reads only. ' +
  'Exit 0 when every source answered; 4 when Kafka did not (the database part is still printed) or PostgreSQL ' +
  'did not; 2 for a malformed id; 1 for an id that does not exist.';
