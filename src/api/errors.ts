import type { FastifyError, FastifyInstance } from 'fastify';
import { sqlStateOf, SqlState } from '../lib/db/errors.js';
import { classifyError } from '../lib/error-kind.js';
import { DomainError, type DomainErrorKind } from '../domain/errors.js';
import type { Logger } from '../lib/log.js';

/**
 * The one error shape of the API: `{ "error": { "code", "message" } }`. Domain services throw
 * DomainError (src/domain/errors.ts), mapped to a status here (404 unknown id, 409 conflicting
 * state, 422 a body that names something unusable, 503); the HTTP layer itself throws HttpError
 * (400 validation, 401); everything else is mapped here so no handler formats errors itself.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const DOMAIN_STATUS: Record<DomainErrorKind, number> = {
  'not-found': 404,
  conflict: 409,
  unprocessable: 422,
  unavailable: 503,
};

export interface ErrorBody {
  error: { code: string; message: string };
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', message: 'body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', message: 'body is empty' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST' },
};

export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof DomainError) {
    return { status: DOMAIN_STATUS[err.kind], body: { error: { code: err.code, message: err.message } } };
  }
  if (err instanceof HttpError) {
    return { status: err.statusCode, body: { error: { code: err.code, message: err.message } } };
  }
  const fe = err as Partial<FastifyError>;
  const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) {
    return {
      status: known.status,
      body: { error: { code: known.code, message: known.message ?? fe.message ?? known.code } },
    };
  }
  // The one vocabulary (lib/error-kind.ts): rejected input 4xx, outage 503, concurrent change 409.
  const { kind, service } = classifyError(err);
  if (kind === 'rejected' && service === 'PostgreSQL') return inputRefusedReply(sqlStateOf(err) ?? '');
  if (kind === 'unavailable') {
    const message =
      service === 'PostgreSQL'
        ? 'the database is unavailable'
        : `${service ?? 'a dependency'} is unavailable`;
    return { status: 503, body: { error: { code: 'UNAVAILABLE', message } } };
  }
  if (kind === 'conflict') {
    const message = 'a concurrent change got in the way; try again';
    return { status: 409, body: { error: { code: 'CONFLICT', message } } };
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: { code: 'BAD_REQUEST', message: fe.message ?? '' } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

/**
 * A value PostgreSQL refused (validation should have caught it first): the caller's fault, so a 4xx
 * with the SQLSTATE, never a 500. The driver's message is not echoed: it can quote stored data.
 */
function inputRefusedReply(state: string): { status: number; body: ErrorBody } {
  const reply = (status: number, code: string, message: string) => ({
    status,
    body: { error: { code, message: `${message} (SQLSTATE ${state})` } },
  });
  if (state === SqlState.CHARACTER_NOT_IN_REPERTOIRE || state === SqlState.UNTRANSLATABLE_CHARACTER)
    return reply(422, 'UNSUPPORTED_CHARACTER', 'a text value holds a character the database cannot store');
  if (state === SqlState.UNIQUE_VIOLATION) return reply(409, 'CONFLICT', 'the value is already taken');
  return reply(422, 'INVALID_VALUE', 'the database refused a value of the request');
}

export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorReply(err);
    const { kind, service } = classifyError(err);
    // An outage answers every request with 503: one short warning each, not an error with a stack.
    if (status === 503 && kind === 'unavailable')
      logger.warn(
        { err: (err as Error).message, method: request.method, url: request.url },
        `request failed: ${service} unavailable`,
      );
    else if (status >= 500 && !(err instanceof HttpError))
      logger.error({ err, method: request.method, url: request.url }, 'request failed');
    // Validation should have refused it before the database did: worth a look, not a 500.
    else if (kind === 'rejected' && service === 'PostgreSQL')
      logger.warn({ err, method: request.method, url: request.url }, 'database refused request input');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );
}
