import { Errors } from '@oclif/core';
import { CliError, ExitCode, errorMessage } from '../errors.js';

export interface Classified {
  code: string;
  exitCode: number;
  message: string;
}

/**
 * The error -> exit code mapping every command ends with: our CliErrors carry their own code, oclif's
 * parse errors are usage errors (2), anything else is an unexpected failure (1). Messages are one line.
 */
export function classify(err: Error): Classified {
  if (err instanceof CliError)
    return { code: err.code, exitCode: err.exitCode, message: oneLine(err.message) };
  if (err instanceof Errors.CLIError) {
    // oclif's own parse errors (unknown flag, bad option value): a usage error.
    const exit = err.oclif?.exit ?? ExitCode.USAGE;
    return { code: 'USAGE', exitCode: exit, message: oneLine(err.message) };
  }
  return { code: 'FAILURE', exitCode: ExitCode.FAILURE, message: errorMessage(err) };
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
