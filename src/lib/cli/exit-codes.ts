import { Errors } from '@oclif/core';
import { CliError, ExitCode, UnavailableError, errorMessage } from '../errors.js';
import { unavailableService } from '../error-kind.js';

export type ExitCodeName = keyof typeof ExitCode;

/**
 * The one table of exit codes and their meanings. Every command's `--help` (EXIT CODES, lib/cli/help.ts),
 * docs/reference/exit-codes.md and docs/commands/ are written from it. `every`: any command can return
 * it (flags and configuration are checked by every command, any can fail unexpectedly or be forced to
 * stop); the others a command declares in its static `exitCodes` (test/unit/exit-codes-help.test.ts).
 */
export const EXIT_CODES: Readonly<
  Record<ExitCodeName, { readonly meaning: string; readonly every: boolean }>
> = {
  OK: { every: true, meaning: 'success (also after a clean shutdown on SIGTERM/SIGINT)' },
  FAILURE: {
    every: true,
    meaning:
      'the command failed: its work failed (the message says how) or an unexpected error; also a ' +
      'shutdown that overran SHUTDOWN_TIMEOUT and was forced',
  },
  USAGE: { every: true, meaning: 'usage error: an unknown flag, a bad flag or argument value (named)' },
  CONFIG: { every: true, meaning: 'an invalid configuration value (the message names the variable)' },
  UNAVAILABLE: {
    every: false,
    meaning: 'PostgreSQL, Redis or Kafka unreachable or unable to serve; the message names which',
  },
  LOCKED: { every: false, meaning: 'another run of the same job holds its lock; this run did nothing' },
  VERIFY: {
    every: false,
    meaning: 'the work finished but its self-check found a discrepancy (listed in the output)',
  },
  FORCED: {
    every: true,
    meaning: 'stopped by a second SIGTERM/SIGINT (a forced stop: the loops gave back what they held first)',
  },
};

/** The codes a command may return, in numeric order: every command's and the ones it declares. */
export function commandExitCodes(declared: readonly ExitCodeName[] = []): ExitCodeName[] {
  const names = Object.keys(EXIT_CODES) as ExitCodeName[];
  return names
    .filter((name) => EXIT_CODES[name].every || declared.includes(name))
    .sort((a, b) => ExitCode[a] - ExitCode[b]);
}

export interface Classified {
  code: string;
  exitCode: number;
  message: string;
}

/**
 * The error -> exit code mapping every command ends with: our CliErrors carry their own code, oclif's
 * parse errors are usage errors (2), an error that says a service is unavailable is exit 4 naming the
 * service (lib/error-kind.ts), anything else is an unexpected failure (1). Messages are one line.
 */
export function classify(err: Error, kafkaBrokers?: string[]): Classified {
  if (err instanceof CliError)
    return { code: err.code, exitCode: err.exitCode, message: oneLine(err.message) };
  if (err instanceof Errors.CLIError) {
    // oclif's own parse errors (unknown flag, bad option value): a usage error.
    const exit = err.oclif?.exit ?? ExitCode.USAGE;
    return { code: 'USAGE', exitCode: exit, message: oneLine(err.message) };
  }
  const unavailable = asUnavailable(err, kafkaBrokers);
  if (unavailable) return classify(unavailable);
  return { code: 'FAILURE', exitCode: ExitCode.FAILURE, message: errorMessage(err) };
}

/** "PostgreSQL is unavailable: <its message>", "Kafka is unavailable: cannot reach <brokers>". */
function asUnavailable(err: Error, kafkaBrokers: string[] | undefined): UnavailableError | undefined {
  const service = unavailableService(err);
  if (!service) return undefined;
  const code = (err as { code?: unknown }).code;
  let detail = err.message || (code ? String(code) : 'connection failed');
  if (service === 'Kafka' && kafkaBrokers) detail = `cannot reach ${kafkaBrokers.join(',')}`;
  return new UnavailableError(service, detail, err);
}

/**
 * oclif wraps flag errors as "The following error occurred:\n  <reason>\nSee more help with --help"
 * (and a custom flag's own error as "Parsing --flag \n\t<reason>\nSee more help ..."): keep the
 * reasons, on one line.
 */
function oneLine(message: string): string {
  const reasons = message
    .split('\n')
    .map((line) => line.trim())
    .filter(
      (line) => line && !/^The following errors? occurred:$/.test(line) && !/^See more help/.test(line),
    );
  return reasons.join('; ') || message;
}
