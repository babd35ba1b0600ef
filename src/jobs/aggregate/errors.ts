import { CliError, ExitCode } from '../../lib/errors.js';

/**
 * A run stopped by SIGTERM/SIGINT before its ranking was written. It is a failed run (exit 1,
 * job_run FAILED 'interrupted ...') so cron and Kubernetes see that the period still needs computing.
 */
export function interrupted(signal: AbortSignal): CliError {
  const reason = typeof signal.reason === 'string' ? signal.reason : 'abort';
  return new CliError(
    `interrupted (${reason}) before the ranking was written; the previous ranking is unchanged`,
    'INTERRUPTED',
    ExitCode.FAILURE,
  );
}
