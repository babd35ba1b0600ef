import type { FastifyInstance } from 'fastify';
import { verifyGatewayCallback } from '../../lib/payments/signature.js';
import type { AppDeps } from '../../domain/deps.js';
import { callbackBody, handleCallback } from '../../domain/payments/callback.js';
import { HttpError } from '../errors.js';
import { parse } from '../validate.js';

/** How old a callback's timestamp may be (either way): a captured callback replayed later is refused. */
export const CALLBACK_TOLERANCE_SEC = 300;

/**
 * POST /payments/callback: the gateway's signed settlement. The signature is an HMAC of
 * `timestamp.body` with GATEWAY_SECRET, so the body is kept as the raw string the gateway signed
 * (this scope's own JSON parser) and verified before it is parsed. A bad signature or a stale
 * timestamp is 401 and changes nothing. A replay within the tolerance is a duplicate: the state
 * machine ignores news about a settled payment.
 */
export async function paymentRoutes(app: FastifyInstance, deps: AppDeps, secret: string): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );
    scope.post('/payments/callback', async (request) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const ts = header(request.headers['x-gateway-timestamp']);
      const signature = header(request.headers['x-gateway-signature']);
      if (
        !secret ||
        !verifyGatewayCallback(secret, ts, signature, raw, { toleranceSec: CALLBACK_TOLERANCE_SEC })
      )
        throw new HttpError(401, 'UNAUTHORIZED', 'payment callback: bad or stale signature');
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new HttpError(400, 'MALFORMED_JSON', 'body is not valid JSON');
      }
      return handleCallback(deps, parse(callbackBody, json, 'body'));
    });
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}
