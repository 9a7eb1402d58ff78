/**
 * CloudEvents SQL (CESQL) v1: parse once with `compileCesql`, then evaluate per event.
 * Evaluation never throws; it returns a value together with the errors met on the way,
 * as the spec requires. Parsing throws `CesqlParseError`.
 */
import { type CesqlType, type CesqlValue } from './casting.ts';
import type { CesqlError } from './errors.ts';
import { compileNode, type CesqlEvent, type CompileNotes, type EvaluationContext } from './evaluator.ts';
import { builtinFunctions, type FunctionRegistry } from './functions.ts';
import { parseCesql } from './parser.ts';

export type { CesqlType, CesqlValue } from './casting.ts';
export { CesqlParseError, type CesqlError, type CesqlErrorKind } from './errors.ts';
export type { CesqlEvent } from './evaluator.ts';
export { createRegistry, type CesqlFunction, type FunctionRegistry } from './functions.ts';
export { parseCesql } from './parser.ts';

export interface CesqlResult {
  value: CesqlValue;
  errors: CesqlError[];
}

export interface CesqlExpression {
  readonly source: string;
  /** The result type known before any event is seen; undefined when an attribute's own type decides. */
  readonly type: CesqlType | undefined;
  /** Function calls that cannot be dispatched; each evaluates to false with a missingFunction error. */
  readonly unresolvedCalls: CompileNotes['unresolvedCalls'];
  evaluate(event: CesqlEvent): CesqlResult;
  /**
   * Filter semantics (spec §1.2, Subscriptions API `sql` dialect): true only when the result
   * is the Boolean true and no error occurred; a result of another type lets no event pass. Reuses one context, so events that
   * raise no error allocate nothing.
   */
  matches(event: CesqlEvent): boolean;
}

export function compileCesql(source: string, functions: FunctionRegistry = builtinFunctions): CesqlExpression {
  const notes: CompileNotes = { unresolvedCalls: [] };
  const compiled = compileNode(parseCesql(source), functions, notes);
  const evaluate = compiled.evaluate;
  const scratch: EvaluationContext = { event: {}, errors: [] };
  return {
    source,
    type: compiled.type,
    unresolvedCalls: notes.unresolvedCalls,
    evaluate(event) {
      const ctx: EvaluationContext = { event, errors: [] };
      const value = evaluate(ctx);
      return { value, errors: ctx.errors };
    },
    matches(event) {
      // Evaluation is synchronous, so one context per expression can be reused event after event.
      scratch.event = event;
      scratch.errors.length = 0;
      const value = evaluate(scratch);
      return value === true && scratch.errors.length === 0;
    },
  };
}
