/**
 * Errors that end a command, each with the exit code cron and Kubernetes act on.
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

/** The services a command or loop depends on; lib/unavailable.ts tells which one an error is about. */
export type Service = 'PostgreSQL' | 'Redis' | 'Kafka';

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
