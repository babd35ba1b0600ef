import type { ErrorKind } from '../errors.js';

/**
 * ioredis' ways of saying "no connection", which it throws as plain Errors without a code (ioredis 5:
 * utils CONNECTION_CLOSED_ERROR_MSG, Redis.js "Stream isn't writeable...", Command.js "Command timed
 * out"), so their text is all there is to go by. MaxRetriesPerRequestError has a class of its own.
 * Raw socket errors (ECONNREFUSED...) never reach callers: ioredis sends them to its 'error' event.
 */
const IOREDIS_WITHOUT_CODE = /^(Connection is closed\.|Stream isn't writeable|Command timed out)/;

/**
 * Reply errors whose code (a reply error's first word, RESP's convention) says the server cannot
 * serve right now: loading its data after a restart, busy with a script, a replica without its
 * primary, out of memory. Any other reply (WRONGTYPE, a script error) is a bug or bad data.
 */
const UNAVAILABLE_REPLIES = new Set(['LOADING', 'BUSY', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN', 'OOM']);

/** ioredis' error (one error, not its causes) in the vocabulary (lib/errors.ts), or undefined. */
export function redisErrorKind(err: unknown): ErrorKind | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'MaxRetriesPerRequestError') return 'unavailable';
  if (err.name === 'ReplyError')
    return UNAVAILABLE_REPLIES.has(err.message.split(' ', 1)[0] ?? '') ? 'unavailable' : 'bug';
  if (!('code' in err) && IOREDIS_WITHOUT_CODE.test(err.message)) return 'unavailable';
  return undefined;
}
