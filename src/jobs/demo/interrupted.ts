import { CliError, ExitCode } from '../../lib/errors.js';

/**
 * SIGTERM/SIGINT during the demo: the pipeline is stopped cleanly, but nothing was verified, so the
 * run is reported as interrupted (exit 1), never as a verification failure (exit 6).
 */
export function demoInterrupted(signal: AbortSignal): CliError {
  const reason = typeof signal.reason === 'string' ? signal.reason : 'abort';
  return new CliError(`demo interrupted (${reason}); nothing was verified`, 'INTERRUPTED', ExitCode.FAILURE);
}
