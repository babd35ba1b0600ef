import { channel } from 'node:diagnostics_channel';

/**
 * Named points of the collector's work that an observer may subscribe to (node:diagnostics_channel):
 * nothing is built or sent while nobody subscribes. A tracer, a profiler, or a test's preloaded
 * module (a crash at this exact point) can hook in without the collector knowing about it.
 */
export const COLLECTOR_PROBES = {
  /** A chunk's database transaction committed; its Redis step and offset commit are still to come. */
  dbCommitted: 'commerce:collector:db-committed',
} as const;

export interface DbCommitted {
  topic: string;
  partition: number;
  /** The chunk's offsets, first and last. */
  offsets: [string, string];
}

const dbCommitted = channel(COLLECTOR_PROBES.dbCommitted);

export function publishDbCommitted(message: () => DbCommitted): void {
  if (dbCommitted.hasSubscribers) dbCommitted.publish(message());
}
