import type { AppConfig } from '../config/config.js';
import type { GatewayClientOptions } from './types.js';

/** The API route the gateway calls back (under the API's /api/v1 prefix). */
export const PAYMENT_CALLBACK_PATH = '/api/v1/payments/callback';

/**
 * Where the gateway should POST callbacks: PAYMENT_CALLBACK_URL when set (the API's public address),
 * else the callback route on `apiUrl` (the address the API listens on, as `listen` returned it).
 */
export function paymentCallbackUrl(config: AppConfig, apiUrl?: string): string {
  if (config.gateway.callbackUrl) return config.gateway.callbackUrl;
  const base = new URL(apiUrl ?? `http://${config.api.host}:${config.api.port}`);
  // A wildcard listen address is not one the gateway can call: use loopback (set the variable otherwise).
  if (['0.0.0.0', '[::]'].includes(base.hostname)) base.hostname = '127.0.0.1';
  return `${base.origin}${PAYMENT_CALLBACK_PATH}`;
}

/**
 * The breaker and retry settings every part uses (docs/payments.md "Payment gateway client"): 3 attempts, backoff
 * 50ms..250ms, breaker open after 5 consecutive failed attempts, one test call after
 * GATEWAY_BREAKER_HALF_OPEN (10s). A call then
 * takes at most 3 * (GATEWAY_TIMEOUT + 250ms); callers with a tighter budget pass an AbortSignal.
 */
export function gatewayClientOptions(
  config: AppConfig,
  callbackUrl: string,
  overrides: Partial<Omit<GatewayClientOptions, 'url' | 'callbackUrl'>> = {},
): GatewayClientOptions {
  return {
    url: config.gateway.url,
    callbackUrl,
    timeoutMs: overrides.timeoutMs ?? config.gateway.timeoutMs,
    retry: overrides.retry ?? { attempts: 3, baseMs: 50, maxMs: 250 },
    breaker: overrides.breaker ?? { failureThreshold: 5, halfOpenAfterMs: config.gateway.breakerHalfOpenMs },
  };
}

/** The longest one client call can take with these options (documented bound; tests check it). */
export function maxCallDurationMs(options: GatewayClientOptions): number {
  return options.retry.attempts * (options.timeoutMs + options.retry.maxMs);
}
