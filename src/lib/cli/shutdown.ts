import { ExitCode } from '../errors.js';
import { liveLoops } from '../lifecycle.js';
import type { Logger } from '../log.js';

/**
 * A process that was asked to stop must stop, whatever a dependency does: a request to a frozen Kafka
 * broker hangs until its request timeout (30 s), kafkajs retries it, and a process that waits past
 * Kubernetes' grace period is SIGKILLed mid-write anyway. Dying here is no worse than a crash, which
 * every loop already survives (a relay's leased batch is taken over once its lease ends; a
 * collector's uncommitted offsets are delivered again).
 */

/** How long the process may stay alive once everything is released (only leaked handles keep it). */
export const LEAK_GRACE_MS = 2_000;

/** Node's live handles by kind (sockets, timers, ...): what keeps an event loop running. */
export function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Armed at the first SIGTERM/SIGINT: if the process is still alive `timeoutMs` later, it logs what it
 * was waiting for and exits 1. Unref'd: it never keeps a process alive by itself.
 */
export function armShutdownDeadline(
  timeoutMs: number,
  logger: Logger,
  waitingFor: () => Record<string, unknown>,
): void {
  setTimeout(() => {
    logger.error(
      { timeoutMs, ...waitingFor(), loops: liveLoops(), handles: activeHandles() },
      'shutdown deadline passed (SHUTDOWN_TIMEOUT): exiting without finishing',
    );
    process.exit(ExitCode.FAILURE);
  }, timeoutMs).unref();
}

/**
 * Armed once a command has released everything: a process still alive after LEAK_GRACE_MS is held
 * only by leaked handles (a client that was never closed): log them and exit with the command's code.
 */
export function exitIfLeaked(logger: Logger | undefined): void {
  setTimeout(() => {
    logger?.warn(
      { handles: activeHandles() },
      'released everything, yet handles keep the process alive: exiting',
    );
    process.exit(process.exitCode ?? ExitCode.OK);
  }, LEAK_GRACE_MS).unref();
}
