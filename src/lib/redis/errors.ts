/**
 * ioredis' ways of saying "no connection", on one error (lib/unavailable.ts walks the causes): a
 * command given up after maxRetriesPerRequest, a command on a closed or unwritable stream, or one
 * that got no answer within commandTimeout. A Redis reply error (WRONGTYPE, a script error) is not one
 * of them: it is a bug or bad data, not an outage. Raw socket errors (ECONNREFUSED...) are not told
 * apart here: ioredis does not hand them to callers (they reach the 'error' event instead).
 */
export function isRedisOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return /^Connection is closed|^Stream isn't writeable|^Command timed out/.test(err.message);
}
