import { ExitCode } from '../errors.js';
import { liveLoops } from '../lifecycle.js';
import { stopLoops } from '../loop.js';
import type { Logger } from '../log.js';
import { sleep } from '../sleep.js';

/**
 * A process that was asked to stop must stop, whatever a dependency does: a request to a frozen Kafka
 * broker hangs until its request timeout (30 s), kafkajs retries it, and a process that waits past
 * Kubernetes' grace period is SIGKILLed mid-write anyway. So the first signal stops gracefully until
 * SHUTDOWN_TIMEOUT; a second signal, or that deadline, forces the stop: every loop of the process
 * (lib/loop.ts) abandons its work in flight and gives back what it holds (a relay its leases), then the
 * process exits. Exiting is no worse than a crash, which every loop already survives.
 */

/** How long the process may stay alive once everything is released (only leaked handles keep it). */
export const LEAK_GRACE_MS = 2_000;

/** How long a forced stop waits for the loops to give back what they hold before the process exits. */
export const RELEASE_GRACE_MS = 2_000;

let forcing = false;

/**
 * Forces the stop of every loop (stop with timeoutMs 0: abandon, release), waits for that at most
 * `graceMs`, then exits with `exitCode`. Called again while it waits (a third signal): exits at once.
 */
export async function forceStop(logger: Logger, exitCode: number, graceMs = RELEASE_GRACE_MS): Promise<void> {
  if (forcing) process.exit(exitCode);
  forcing = true;
  const released = await Promise.race([
    stopLoops({ timeoutMs: 0 }).then(() => true),
    sleep(graceMs).then(() => false),
  ]);
  if (released) logger.warn({ exitCode }, 'forced stop: loops stopped and released what they held; exiting');
  else
    logger.error(
      { exitCode, graceMs, loops: liveLoops() },
      'forced stop: loops did not release in time; exiting (what they hold waits out its lease)',
    );
  process.exit(exitCode);
}

/** Node's live handles by kind (sockets, timers, ...): what keeps an event loop running. */
export function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Armed at the first SIGTERM/SIGINT: if the process is still alive `timeoutMs` later, it logs what it
 * was waiting for, forces the stop (forceStop) and exits 1. Unref'd: it never keeps a process alive by
 * itself.
 */
export function armShutdownDeadline(
  timeoutMs: number,
  logger: Logger,
  waitingFor: () => Record<string, unknown>,
): void {
  setTimeout(() => {
    logger.error(
      { timeoutMs, ...waitingFor(), loops: liveLoops(), handles: activeHandles() },
      'shutdown deadline passed (SHUTDOWN_TIMEOUT): forcing the stop, exiting without finishing',
    );
    void forceStop(logger, ExitCode.FAILURE);
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
