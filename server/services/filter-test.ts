/**
 * Testing a filter against an event without deploying anything (as EventBridge's
 * TestEventPattern does): the same compiler and validator the data plane uses.
 *
 * Viewers can run this, so nothing in it may hold the studio: the filter's jq expressions
 * are evaluated first, together, off the event loop and within one budget (runJqAsync), and
 * the compiled predicate then answers from those results. CESQL and patterns are plain
 * JavaScript with bounded work.
 */
import { z } from 'zod';
import { IngressError, validateStructured } from '@/runtime/events/cloudevent';
import { DefinitionError, compileFilter, jqExpressions } from '@/runtime/expressions/filters';
import { JqBudgetError, JqEvaluationError, loadJqRuntime, runJqAsync, type JqRuntime, type JqValue } from '@/runtime/expressions/jq';

export const testFilterInput = z.object({
  filter: z.string().max(100_000),
  event: z.string().max(1_000_000),
});

export type FilterTestResult =
  | { ok: true; matches: boolean }
  | { ok: false; problems: Array<{ where: 'filter' | 'event'; path: string; message: string }> };

function parseJson(text: string, where: 'filter' | 'event'): { value: unknown } | FilterTestResult {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problems: [{ where, path: '', message: `not valid JSON: ${(error as Error).message}` }] };
  }
}

/**
 * A jq runtime that answers `run` on this event from results computed beforehand: every jq
 * expression of the filter in one evaluation off the event loop, so the whole filter gets one
 * budget however many expressions it holds.
 */
async function answeringJq(definition: unknown, event: object): Promise<JqRuntime | FilterTestResult> {
  const jq = await loadJqRuntime();
  const found = jqExpressions(definition);
  // Expressions that do not compile are left to compileFilter, which reports them.
  const valid = [...new Set(found.map((f) => f.expression))].filter((expression) => jq.syntaxError(expression) === undefined);
  if (valid.length === 0) return jq;
  const program = `[${valid.map((expression) => `(try {ok: [(${expression}\n)]} catch {error: .})`).join(', ')}]`;
  let results: { ok?: JqValue[]; error?: JqValue }[];
  try {
    results = (await runJqAsync(program, event as JqValue))[0] as typeof results;
  } catch (error) {
    if (!(error instanceof JqBudgetError)) throw error;
    const one = found.length === 1 ? found[0]! : undefined;
    const message = one ? error.message : error.message.replace(/^jq expression exceeded its/, "this filter's jq expressions exceeded their");
    return { ok: false, problems: [{ where: 'filter', path: one ? one.path : '', message }] };
  }
  const answers = new Map<string, JqValue[] | JqEvaluationError>();
  valid.forEach((expression, i) => {
    const result = results[i]!;
    answers.set(expression, result.ok ?? new JqEvaluationError(typeof result.error === 'string' ? result.error : JSON.stringify(result.error), expression));
  });
  return {
    run(expression, input, vars) {
      const answer = input === event ? answers.get(expression) : undefined;
      if (answer === undefined) return jq.run(expression, input, vars);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    runMany: (expressions, input, vars) => jq.runMany(expressions, input, vars),
    runAsync: (expression, input, vars) => jq.runAsync(expression, input, vars),
    runManyAsync: (expressions, input, vars) => jq.runManyAsync(expressions, input, vars),
    syntaxError: (expression) => jq.syntaxError(expression),
  };
}

export async function testFilter(input: z.infer<typeof testFilterInput>): Promise<FilterTestResult> {
  const filter = parseJson(input.filter, 'filter');
  if (!('value' in filter)) return filter;
  const event = parseJson(input.event, 'event');
  if (!('value' in event)) return event;
  let record;
  try {
    record = validateStructured(event.value);
  } catch (error) {
    if (!(error instanceof IngressError)) throw error;
    return { ok: false, problems: [{ where: 'event', path: error.attribute ?? '', message: error.message }] };
  }
  const jq = await answeringJq(filter.value, record);
  if ('ok' in jq) return jq;
  try {
    const predicate = await compileFilter(filter.value, { jq });
    return { ok: true, matches: predicate(record) };
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    return {
      ok: false,
      problems: error.issues.map((issue) => ({ where: 'filter' as const, path: issue.path, message: issue.message })),
    };
  }
}
