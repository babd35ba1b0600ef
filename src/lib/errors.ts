/**
 * Errors that end a command, each with the exit code cron and Kubernetes act on (their meanings, and
 * which command returns which: lib/cli/exit-codes.ts).
 * User-facing errors print one line and no stack trace; anything else is a bug and is logged in full.
 */
export const ExitCode = {
  OK: 0,
  FAILURE: 1, // the job ran and failed (or an unexpected error)
  USAGE: 2, // bad flag or argument (oclif's own parse errors use 2 as well)
  CONFIG: 3, // a configuration value is invalid
  UNAVAILABLE: 4, // PostgreSQL, Redis or Kafka could not be reached
  LOCKED: 5, // another run of the same job holds the lock
  VERIFY: 6, // the work finished but its self-check found a discrepancy
  FORCED: 130, // a second SIGTERM/SIGINT forced the stop
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: ExitCode = ExitCode.FAILURE,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An error class whose instances always carry this code and exit code (the message is the caller's). */
function kind(code: string, exitCode: ExitCode) {
  return class extends CliError {
    constructor(message: string) {
      super(message, code, exitCode);
    }
  };
}

export class UsageError extends kind('USAGE', ExitCode.USAGE) {}

export class ConfigError extends kind('CONFIG', ExitCode.CONFIG) {}

/**
 * The one error vocabulary (docs/architecture.md "Errors: four kinds"): what a failure means for whoever meets it.
 * - `unavailable`: a dependency cannot be reached or is overloaded: retry later, pause; 503, exit 4.
 * - `rejected`: the input or event is bad: never retried; a 4xx, a dead letter.
 * - `conflict`: a concurrent change (serialization failure, deadlock, lock not available): retry at
 *   once; 409 in the API.
 * - `bug`: anything else: our fault; 500, exit 1, logged in full.
 * Each adapter classifies its own library's errors from codes and flags (lib/db, lib/redis, lib/kafka,
 * lib/fetch-errors.ts for the gateway and webhook receivers); lib/error-kind.ts is the one entry point.
 */
export type ErrorKind = 'unavailable' | 'rejected' | 'conflict' | 'bug';

/** The services a command or loop depends on, named in a classification and in UnavailableError. */
export type Service = 'PostgreSQL' | 'Redis' | 'Kafka' | 'gateway' | 'webhook receiver';

export interface Classification {
  kind: ErrorKind;
  /** Which dependency the error concerns, when it came from one. */
  service?: Service;
}

/** An error of our own adapters that carries its kind (a gateway attempt, a webhook receiver down). */
export class KindError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly service: Service | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Node's socket error codes (`err.code`, from net/dns) that mean "cannot reach the server"; every
 * adapter whose library hands them on (pg, kafkajs, fetch's `cause`) reads them from here.
 */
export const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** An error's `code` as a string (Node, pg and kafkajs all use that property), or undefined. */
export function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return code === undefined || code === null ? undefined : String(code);
}

export class UnavailableError extends CliError {
  constructor(
    readonly service: Service,
    detail: string,
    cause?: unknown,
  ) {
    super(`${service} is unavailable: ${detail}`, 'UNAVAILABLE', ExitCode.UNAVAILABLE, { cause });
  }
}

/**
 * Work stopped by SIGTERM/SIGINT before it finished: a failed run (exit 1), so cron and Kubernetes see
 * that it still needs doing, never a verification failure (exit 6). The message says what it left.
 */
export class InterruptedError extends CliError {
  constructor(signal: AbortSignal, consequence: string, subject?: string) {
    const reason = typeof signal.reason === 'string' ? signal.reason : 'abort';
    const what = subject ? `${subject} interrupted` : 'interrupted';
    super(`${what} (${reason}); ${consequence}`, 'INTERRUPTED', ExitCode.FAILURE);
  }
}

export class LockedError extends kind('LOCKED', ExitCode.LOCKED) {}

export class VerifyError extends kind('VERIFY', ExitCode.VERIFY) {}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
