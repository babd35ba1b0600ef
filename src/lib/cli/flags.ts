import { Flags } from '@oclif/core';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { parseDate } from '../time/dates.js';

/** A duration flag (`7d`, `12h`, `30m`, ...) parsed to milliseconds; anything else is a usage error (exit 2). */
export const durationFlag = Flags.custom<number>({
  helpValue: '<duration>',
  parse: async (input) => parseDurationInput(input),
});

/** A flag's duration in milliseconds; a malformed one is a usage error (exit 2). */
export function parseDurationInput(input: string): number {
  try {
    return parseDuration(input);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

// Kafka's own rule for topic names (at most 249; the prefix needs room too).
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,200}$/;

/** Topic names as flags give them: comma-separated, each a legal Kafka name (else exit 2). */
export function parseTopicNames(input: string): string[] {
  const names = input
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('give at least one topic');
  const bad = names.find((n) => !TOPIC_NAME.test(n));
  if (bad !== undefined) throw new UsageError(`"${bad}" is not a topic name (letters, digits, . _ -)`);
  return names;
}

/**
 * A topic flag. Names are given without KAFKA_TOPIC_PREFIX, which the command adds (prefixedTopic in
 * config.ts), as it does to every topic it uses.
 */
export const topicsFlag = Flags.custom<string[]>({
  helpValue: '<topic,...>',
  parse: async (input) => parseTopicNames(input),
});
export const topicFlag = Flags.custom<string>({
  helpValue: '<topic>',
  parse: async (input) => {
    const names = parseTopicNames(input);
    if (names.length !== 1) throw new UsageError('give one topic');
    return names[0]!;
  },
});

/** `--topic` of the dead-letter commands (dlq list, dlq replay). */
export const deadLetterTopicFlag = () =>
  topicFlag({ summary: 'Dead-letter topic, without KAFKA_TOPIC_PREFIX (default: catalog-events.dlq).' });

/** A weight from 0 to 1 (`--weight 0.1`); anything else is a usage error (exit 2). */
export const weightFlag = Flags.custom<number>({
  helpValue: '<0..1>',
  parse: async (input) => {
    const weight = Number(input);
    if (input.trim() === '' || !Number.isFinite(weight) || weight < 0 || weight > 1)
      throw new UsageError('must be a number from 0 to 1');
    return weight;
  },
});

/** A Kafka offset: a non-negative integer, kept as a string (offsets outgrow a JS number). */
export const offsetFlag = Flags.custom<string>({
  helpValue: '<offset>',
  parse: async (input) => {
    if (!/^\d+$/.test(input)) throw new UsageError(`must be a non-negative integer, not "${input}"`);
    return input;
  },
});

/** A calendar date, YYYY-MM-DD (a real day: not 2024-02-30); anything else is a usage error (exit 2). */
export const dateFlag = Flags.custom<string>({
  helpValue: '<YYYY-MM-DD>',
  parse: async (input) => {
    try {
      return parseDate(input);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  },
});
