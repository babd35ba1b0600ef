import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * One structured logger for the whole process, always on stderr so stdout stays for results.
 * JSON lines when stderr is not a terminal (log collectors), readable lines when it is.
 */
export function createLogger(
  level: LevelWithSilent,
  options: { pretty?: boolean; name?: string } = {},
): Logger {
  const usePretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const base = { level, base: options.name ? { name: options.name } : null };
  if (usePretty) {
    return pino(base, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}
