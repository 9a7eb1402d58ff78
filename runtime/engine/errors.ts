/**
 * Workflow errors are RFC 7807 problem details (DSL 1.0 "Errors"). The spec text names the
 * standard types under one base URI and the conformance kit under another; the base used
 * for errors we raise is this one constant, and matching treats the kit's base as an alias
 * so catch filters written against either one work.
 */
import type { ProblemDetails } from './types.ts';

export type { ProblemDetails } from './types.ts';

export const ERROR_TYPE_BASE = 'https://serverlessworkflow.io/spec/1.0.0/errors/';
const ERROR_TYPE_ALIASES = ['https://serverlessworkflow.io/dsl/errors/types/'];

export const STANDARD_ERRORS = {
  configuration: 400,
  validation: 400,
  expression: 400,
  authentication: 401,
  authorization: 403,
  timeout: 408,
  communication: 500,
  runtime: 500,
} as const;

export type StandardErrorKind = keyof typeof STANDARD_ERRORS;

export function errorType(kind: StandardErrorKind): string {
  return ERROR_TYPE_BASE + kind;
}

/** Reduces a standard error type URI under any known base to its kind, so both spellings compare equal. */
function canonicalType(type: string): string {
  for (const base of ERROR_TYPE_ALIASES) {
    if (type.startsWith(base)) return ERROR_TYPE_BASE + type.slice(base.length);
  }
  return type;
}

export function sameErrorType(a: string, b: string): boolean {
  return canonicalType(a) === canonicalType(b);
}

export class WorkflowError extends Error {
  readonly problem: ProblemDetails;

  constructor(problem: ProblemDetails) {
    super(problem.detail ?? problem.title ?? problem.type);
    this.name = 'WorkflowError';
    this.problem = problem;
  }

  static of(kind: StandardErrorKind, detail: string, instance?: string, title?: string): WorkflowError {
    return new WorkflowError({
      type: errorType(kind),
      status: STANDARD_ERRORS[kind],
      title: title ?? `${kind[0]!.toUpperCase()}${kind.slice(1)} error`,
      detail,
      ...(instance === undefined ? {} : { instance }),
    });
  }

  /** The same error reported at a task, unless an inner task already claimed it. */
  at(instance: string): WorkflowError {
    return this.problem.instance === undefined ? new WorkflowError({ ...this.problem, instance }) : this;
  }
}

/** Anything thrown inside a task becomes a problem: our errors pass through, the rest is a runtime error. */
export function toWorkflowError(error: unknown, instance: string): WorkflowError {
  if (error instanceof WorkflowError) return error.at(instance);
  const message = error instanceof Error ? error.message : String(error);
  return WorkflowError.of('runtime', message, instance);
}

/** Thrown when the run was cancelled or stopped; never caught by `try`. */
export class InterruptedError extends Error {
  constructor(readonly reason: 'cancelled' | 'stopped') {
    super(`workflow ${reason}`);
    this.name = 'InterruptedError';
  }
}
