import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of a gateway callback: when it was signed, and `v1=<hex HMAC-SHA256>` of `timestamp.body`. */
export const GATEWAY_TIMESTAMP_HEADER = 'x-gateway-timestamp';
export const GATEWAY_SIGNATURE_HEADER = 'x-gateway-signature';
/** A callback signed longer ago than this (or this far in the future) is refused as a replay. */
export const DEFAULT_TOLERANCE_SEC = 300;

/** `v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`: the timestamp is signed, so it cannot be moved. */
export function signGatewayCallback(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * True only for a callback signed with `secret` within `toleranceSec` of `now` (unix seconds). The body
 * must be the raw bytes received, before any JSON parsing. An empty secret verifies nothing.
 */
export function verifyGatewayCallback(
  secret: string,
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  body: string,
  opts: { toleranceSec?: number; now?: number } = {},
): boolean {
  if (!secret || !timestampHeader || !signatureHeader) return false;
  if (!/^\d{1,12}$/.test(timestampHeader)) return false;
  const timestamp = Number(timestampHeader);
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return false;
  const expected = Buffer.from(signGatewayCallback(secret, timestamp, body));
  // Several signatures may be sent during a secret rotation: any one of them may match.
  return signatureHeader
    .split(/[,\s]+/)
    .filter(Boolean)
    .some((candidate) => {
      const given = Buffer.from(candidate);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}
