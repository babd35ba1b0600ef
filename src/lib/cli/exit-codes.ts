import { Errors } from '@oclif/core';
import { CliError, ExitCode, UnavailableError, errorMessage } from '../errors.js';
import { unavailableService } from '../error-kind.js';

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
