/**
 * CESQL error kinds (spec §3.3). Evaluation errors travel next to a value instead of
 * being thrown, because every CESQL operator is total; only parsing throws.
 */
export type CesqlErrorKind =
  | 'parse'
  | 'math'
  | 'cast'
  | 'missingAttribute'
  | 'missingFunction'
  | 'functionEvaluation'
  | 'generic';

export interface CesqlError {
  kind: CesqlErrorKind;
  message: string;
}

/** Thrown by the parser; `position` is the zero-based character offset in the expression. */
export class CesqlParseError extends Error {
  readonly kind = 'parse' as const;
  constructor(
    readonly detail: string,
    readonly position: number,
  ) {
    super(`${detail} at ${position}`);
    this.name = 'CesqlParseError';
  }
}
