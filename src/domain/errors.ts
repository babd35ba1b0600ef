/**
 * What a domain service can refuse, without knowing about HTTP: the API maps each kind to a status
 * (src/api/errors.ts), a CLI or a job could map it to something else.
 */
export type DomainErrorKind = 'not-found' | 'conflict' | 'unprocessable' | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: number | string) =>
  new DomainError('not-found', 'NOT_FOUND', `${what} ${id} does not exist`);
export const conflict = (code: string, message: string) => new DomainError('conflict', code, message);
export const unprocessable = (code: string, message: string) =>
  new DomainError('unprocessable', code, message);
export const unavailable = (message: string) => new DomainError('unavailable', 'UNAVAILABLE', message);
