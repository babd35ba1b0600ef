import { codeOf, NETWORK_CODES, type ErrorKind } from '../errors.js';

/**
 * PostgreSQL's errors in the one vocabulary (lib/errors.ts), by SQLSTATE in one table (graphile-worker's
 * habit): a code first, then its class. A unique violation is `rejected` here: only the caller knows
 * whether it was a race (the API answers it 409, the catalog names the taken value).
 */
const BY_CODE: Readonly<Record<string, ErrorKind>> = {
  '40001': 'conflict', // serialization_failure
  '40P01': 'conflict', // deadlock_detected
  '55P03': 'conflict', // lock_not_available
  '3D000': 'unavailable', // invalid_catalog_name: the database is not there (yet)
  '28000': 'unavailable', // invalid_authorization_specification: cannot log in
  '28P01': 'unavailable', // invalid_password
};
const BY_CLASS: Readonly<Record<string, ErrorKind>> = {
  '08': 'unavailable', // connection exception
  '53': 'unavailable', // insufficient resources: too many connections, out of memory or disk
  '57': 'unavailable', // operator intervention: admin/crash shutdown, cannot connect now, canceled
  '58': 'unavailable', // system error: I/O
  '22': 'rejected', // data exception: bad encoding, out of range, too long, unparsable
  '23': 'rejected', // integrity constraint violation
};

/**
 * pg and pg-pool throw these as plain Errors without a code (pg 8: client.js 'Connection terminated
 * [unexpectedly]', '... is not queryable'; pg-pool: 'timeout exceeded when trying to connect',
 * 'Connection terminated due to connection timeout'), so their text is all there is to go by.
 */
const PG_WITHOUT_CODE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)/;

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

/** Five characters of digits and capitals, at least one digit (Node's `EPIPE` has none). */
function isSqlStateCode(code: string | undefined): code is string {
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && /[0-9]/.test(code);
}

export function isSqlState(err: unknown, state: string): boolean {
  return codeOf(err) === state;
}

/** The first SQLSTATE in the error or its causes (a layer may have wrapped the driver's error). */
export function sqlStateOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = codeOf(e);
    if (isSqlStateCode(code)) return code;
  }
  return undefined;
}

/**
 * node-postgres' error (one error, not its causes) in the vocabulary, or undefined when it is not one:
 * a server error by its SQLSTATE (anything unlisted is a `bug`: bad SQL, a missing table), a socket
 * error (node-postgres hands them on raw) by Node's code, pg's own code-less connection errors.
 */
export function pgErrorKind(err: unknown): ErrorKind | undefined {
  const code = codeOf(err);
  if (isSqlStateCode(code)) return BY_CODE[code] ?? BY_CLASS[code.slice(0, 2)] ?? 'bug';
  if (code !== undefined) return NETWORK_CODES.has(code) ? 'unavailable' : undefined;
  if (err instanceof Error && PG_WITHOUT_CODE.test(err.message)) return 'unavailable';
  return undefined;
}
