import { Webhook } from 'standardwebhooks';

/**
 * Webhook requests follow Standard Webhooks (https://www.standardwebhooks.com, issue 24), so a
 * receiver verifies them with any of that specification's libraries. Header names are lower case, as
 * Node's http server presents them.
 */
export const WEBHOOK_HEADERS = {
  /** The event id: the same on every attempt, so receivers dedupe on it. */
  id: 'webhook-id',
  /** Unix seconds of this attempt: signed with the body, so a receiver refuses old replays. */
  timestamp: 'webhook-timestamp',
  /** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per configured secret, space-separated. */
  signature: 'webhook-signature',
} as const;

/** The prefix of a Standard Webhooks secret: `whsec_` + the key in base64. */
export const WHSEC_PREFIX = 'whsec_';

/** Whether a secret is in the Standard Webhooks form (else: a plain secret, its UTF-8 bytes are the key). */
export function isStandardSecret(secret: string): boolean {
  return secret.startsWith(WHSEC_PREFIX);
}

/** The HMAC key of a secret: `whsec_<base64>` decoded, or a plain secret's UTF-8 bytes. */
function signer(secret: string): Webhook {
  return isStandardSecret(secret)
    ? new Webhook(secret)
    : new Webhook(new Uint8Array(Buffer.from(secret, 'utf8')), { format: 'raw' });
}

/**
 * Signs with every secret given (the current one first; while a secret is rotated, the previous one
 * too), with the specification's reference library: the `webhook-signature` header's value.
 */
export function webhookSigner(secrets: string[]): (id: string, timestampSec: number, body: string) => string {
  const webhooks = secrets.map(signer);
  return (id, timestampSec, body) => {
    const at = new Date(timestampSec * 1000);
    return webhooks.map((w) => w.sign(id, at, body)).join(' ');
  };
}
