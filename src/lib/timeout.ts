/** A source that did not answer within its timeout (trace, doctor): the caller says which source. */
export class NoAnswerError extends Error {
  override name = 'NoAnswerError';
}

/**
 * `work`, or a NoAnswerError after `timeoutMs`. The work goes on in the background after the timeout
 * (its rejection is swallowed); the caller closes its clients, which ends it.
 */
export async function withinTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new NoAnswerError(`${what}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
