/**
 * PostgreSQL errors by SQLSTATE, in one table: which ones a retry can fix, which mean "unreachable",
 * and which are the caller's fault (a constraint the input broke).
 */
const RETRYABLE = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);
/** Socket error codes that mean "cannot reach the server" (lib/unavailable.ts reads them too). */
export const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
]);

export const SqlState = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  NOT_NULL_VIOLATION: '23502',
  INVALID_TEXT_REPRESENTATION: '22P02',
  CHARACTER_NOT_IN_REPERTOIRE: '22021', // e.g. U+0000 in text
  UNTRANSLATABLE_CHARACTER: '22P05', // e.g. \u0000 in jsonb
  NUMERIC_VALUE_OUT_OF_RANGE: '22003',
  INVALID_CATALOG_NAME: '3D000',
  INVALID_PASSWORD: '28P01',
  INVALID_AUTHORIZATION: '28000',
} as const;

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

export function isSqlState(err: unknown, state: string): boolean {
  return codeOf(err) === state;
}

/**
 * The statement was refused because of the data it was given, not because of the server: SQLSTATE
 * class 22 (data exception: bad encoding, out of range, too long, unparsable) or 23 (integrity
 * constraint). In an API these come from input validation missed, so they are the caller's 4xx,
 * never a 500. Looks through `cause` in case a layer wrapped the driver's error.
 */
export function inputSqlState(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = codeOf(e);
    if (code && /^(22|23)[0-9A-Z]{3}$/.test(code)) return code;
  }
  return undefined;
}

export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  if (code && (NETWORK_CODES.has(code) || code.startsWith('08'))) return true;
  if (code === SqlState.INVALID_CATALOG_NAME || code === SqlState.INVALID_PASSWORD) return true;
  if (code === SqlState.INVALID_AUTHORIZATION) return true;
  const message = err instanceof Error ? err.message : '';
  // pg's own wording: a pool checkout timing out, a socket closing, a query on a client whose
  // connection already died (is not queryable).
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|is not queryable/i.test(
    message,
  );
}

/**
 * PostgreSQL cannot serve right now (unreachable, starting up, shutting down, out of connections or
 * resources, I/O trouble): an outage to wait out, never a verdict on the data being written.
 * SQLSTATE classes 08 (connection), 53 (insufficient resources), 57 (operator intervention), 58 (system).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = codeOf(err);
  if (code && /^(53|57|58)/.test(code)) return true;
  return isConnectionError(err);
}

export function isRetryableSqlError(err: unknown): boolean {
  const code = codeOf(err);
  return (code !== undefined && RETRYABLE.has(code)) || isConnectionError(err);
}
