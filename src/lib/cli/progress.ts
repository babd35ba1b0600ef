import ora, { type Ora } from 'ora';
import type { Logger } from '../log.js';

/**
 * Progress of a batch: an ora spinner on an interactive stderr, otherwise a log line at most every
 * `intervalMs` (cron and Kubernetes logs get a heartbeat, not a line per chunk). Never on stdout.
 */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  /** Stops without a message: the command reports the error itself. */
  fail(): void;
}

export function createProgress(options: {
  interactive: boolean;
  logger: Logger;
  intervalMs?: number;
}): Progress {
  // A terminal that reports no width (some ptys, `kubectl run -t`) would make ora's line maths divide
  // by zero and loop forever: plain log lines there.
  if (options.interactive && (process.stderr.columns ?? 0) > 0) {
    return spinner(ora({ stream: process.stderr, discardStdin: false }).start());
  }
  const { logger } = options;
  const interval = options.intervalMs ?? 5_000;
  let last = 0;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      logger.info(text);
    },
    succeed: (text) => logger.info(text),
    fail: () => undefined,
  };
}

function spinner(s: Ora): Progress {
  return {
    update: (text) => void (s.text = text),
    succeed: (text) => void s.succeed(text),
    fail: () => void s.stop(),
  };
}
