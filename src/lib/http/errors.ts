import type { FastifyError, FastifyInstance } from 'fastify';
import { isDatabaseUnavailable } from '../db/errors.js';
import { DomainError, type DomainErrorKind } from '../domain/errors.js';
import type { Logger } from '../log.js';

/**
 * The one error shape of the API: `{ "error": { "code", "message" } }`. Domain services throw
 * DomainError (src/lib/domain/errors.ts), mapped to a status here (404 unknown id, 409 conflicting
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
  if (isDatabaseUnavailable(err)) {
    return { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'the database is unavailable' } } };
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: { code: 'BAD_REQUEST', message: fe.message ?? '' } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorReply(err);
    // An outage answers every request with 503: one short warning each, not an error with a stack.
    if (status === 503 && isDatabaseUnavailable(err))
      logger.warn(
        { err: (err as Error).message, method: request.method, url: request.url },
        'request failed: PostgreSQL unavailable',
      );
    else if (status >= 500 && !(err instanceof HttpError))
      logger.error({ err, method: request.method, url: request.url }, 'request failed');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );
}
