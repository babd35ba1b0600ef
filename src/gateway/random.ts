import { createHash } from 'node:crypto';

/**
 * Random draws in [0, 1). With a seed, a draw is a hash of (seed, what it decides, paymentId, request
 * number): the same run gives the same choices whatever order concurrent requests arrive in.
 */
export type Draw = (...key: (string | number)[]) => number;

export function createDraw(seed: string | undefined): Draw {
  if (seed === undefined) return () => Math.random();
  return (...key) => {
    const digest = createHash('sha256')
      .update(JSON.stringify([seed, ...key]))
      .digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  };
}
