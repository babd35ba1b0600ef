import { createKafka } from '../../lib/kafka/client.js';
import { runDemo, type DemoDeps, type DemoResult } from './demo.js';
import type { DemoOptions } from './options.js';

/**
 * `commerce demo`: the report is the output, so at the default level (info) the pipeline logs only
 * warnings and errors; its Kafka client logs through the same quieter logger.
 */
export function runQuietDemo(deps: Omit<DemoDeps, 'kafka'>, options: DemoOptions): Promise<DemoResult> {
  const logger = deps.config.logLevel === 'info' ? deps.logger.child({}, { level: 'warn' }) : deps.logger;
  return runDemo({ ...deps, logger, kafka: createKafka(deps.config.kafka, logger) }, options);
}
