import { NETWORK_CODES } from '../db/errors.js';
import { CliError, UnavailableError } from '../errors.js';

/**
 * ioredis' ways of saying "no connection": a command given up after maxRetriesPerRequest, a command
 * on a closed or unwritable stream, or a socket error passed through. A Redis reply error (WRONGTYPE,
 * a script error) is not one of them: it is a bug or bad data, not an outage.
 */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof CliError) return false; // already classified
  if (err.name === 'MaxRetriesPerRequestError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return /^Connection is closed|^Stream isn't writeable/.test(err.message);
}

/** Turns "cannot reach Redis" into the one-line, exit-code-4 error operators see. */
export function asRedisUnavailable(err: unknown): unknown {
  if (!isRedisConnectionError(err)) return err;
  return new UnavailableError('Redis', (err as Error).message, err);
}
