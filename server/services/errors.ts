/** Errors services raise; the tRPC layer maps each to a status, the CLI to an exit code. */
export class ServiceError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT' | 'BAD_REQUEST' | 'FORBIDDEN' | 'PRECONDITION_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
