/**
 * The DSL 1.0 check of a compiled document, by the engine's validator (schema through
 * @serverlessworkflow/sdk, plus flow directives and jq syntax by real jq). Its problems are
 * JSON pointers; here each becomes a diagnostic on the node whose task it is in.
 */
import { validateWorkflow } from '../engine/validate.ts';
import type { Diagnostic } from './diagnostics.ts';

export async function validateDocument(document: unknown, nodeIds: ReadonlySet<string> = new Set()): Promise<Diagnostic[]> {
  const problems = await validateWorkflow(document);
  return problems.map((problem) => {
    const path = problem.path
      .split('/')
      .slice(1)
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    const nodeId = [...path].reverse().find((part): part is string => typeof part === 'string' && nodeIds.has(part));
    return {
      severity: 'error',
      code: 'invalid-document',
      message: `${problem.message}${problem.expected ? ` (expected ${problem.expected})` : ''}`,
      path,
      ...(nodeId ? { nodeId } : {}),
    };
  });
}
