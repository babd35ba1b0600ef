import { z } from 'zod';

/** Bodies the simulator accepts; a bad one is 400 naming the field, like the API's own validation. */
const id = z.string().min(1).max(200);
const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const paymentRequest = z.object({
  paymentId: id,
  orderId: positiveInt,
  amount: positiveInt,
  callbackUrl: z.string().regex(/^https?:\/\/\S+$/, 'an http(s) URL'),
});
export type PaymentRequest = z.infer<typeof paymentRequest>;

export const refundRequest = z.object({ paymentId: id, amount: positiveInt });
export type RefundRequest = z.infer<typeof refundRequest>;

/** The parsed body, or the message of its first problem, naming the field. */
export function parseBody<T>(schema: z.ZodType<T>, text: string): { value: T } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: 'body: not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { error: `${issue.path.join('.') || 'body'}: ${issue.message}` };
}
