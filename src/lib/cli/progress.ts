import ora, { type Ora } from 'ora';
import type { Logger } from '../log.js';

/**
 * Progress of long work: an ora spinner on an interactive stderr, otherwise a log line at most every
 * `intervalMs` (cron and Kubernetes logs get a heartbeat, not a line per chunk). Never on stdout,
 * never under --json.
 */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  /** Stops; with a text, says what failed (the command still reports the error itself). */
  fail(text?: string): void;
}

export function createProgress(options: {
  interactive: boolean;
  logger: Logger;
  text?: string;
  intervalMs?: number;
}): Progress {
  return once(start(options));
}

/** After succeed() or fail(), further calls do nothing (the base command fails whatever is active). */
function once(progress: Progress): Progress {
  let done = false;
  return {
    update: (text) => void (done || progress.update(text)),
    succeed: (text) => void (done || ((done = true), progress.succeed(text))),
    fail: (text) => void (done || ((done = true), progress.fail(text))),
  };
}

function start(options: Parameters<typeof createProgress>[0]): Progress {
  // A terminal that reports no width (some ptys, `kubectl run -t`) would make ora's line maths divide
  // by zero and loop forever: plain log lines there.
  if (options.interactive && process.stderr.isTTY && (process.stderr.columns ?? 0) > 0) {
    return spinner(ora({ text: options.text, stream: process.stderr, discardStdin: false }).start());
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
    fail: (text) => {
      if (text) logger.warn(text);
    },
  };
}

function spinner(s: Ora): Progress {
  return {
    update: (text) => void (s.text = text),
    succeed: (text) => void s.succeed(text),
    fail: (text) => void (text ? s.fail(text) : s.stop()),
  };
}
