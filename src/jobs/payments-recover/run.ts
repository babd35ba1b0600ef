import { GatewayClient } from '../../lib/payments/gateway-client.js';
import { paymentCallbackUrl } from '../../lib/payments/options.js';
import type { PaymentDeps } from '../../domain/payments/gateway.js';
import { recoverClientOptions, recoverPayments, type RecoverOptions, type RecoverResult } from './recover.js';

/**
 * One run of the recovery job with a gateway client of its own (recoverClientOptions: it tries
 * harder than the API), calling the gateway back at PAYMENT_CALLBACK_URL or the API's address.
 */
export function runPaymentsRecover(
  deps: Omit<PaymentDeps, 'gateway'>,
  options: RecoverOptions,
): Promise<RecoverResult> {
  const { config, logger } = deps;
  const gateway = new GatewayClient(recoverClientOptions(config, paymentCallbackUrl(config)), logger);
  return recoverPayments({ ...deps, gateway }, options);
}
