/**
 * An expected failure of a data-access function, with the tRPC-style code it should be answered with.
 * The server maps it one to one; scripts print its message.
 */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code:
      | 'BAD_REQUEST'
      | 'UNAUTHORIZED'
      | 'FORBIDDEN'
      | 'NOT_FOUND'
      | 'CONFLICT'
      | 'TOO_MANY_REQUESTS'
      | 'PAYLOAD_TOO_LARGE',
    message: string,
    /** Extra, client-safe facts (a current row for a conflict, a retry delay, per-item problems). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** CONFLICT for a write based on an older version: it carries the current object, for the client to merge. */
export function staleVersion(kind: 'entry' | 'metric', current: { version: number }): DomainError {
  return new DomainError(
    'CONFLICT',
    `the ${kind} has changed (it is at version ${current.version}); reload and retry`,
    { current },
  );
}
