import { WorkflowError } from '../errors.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
import type { Json, TaskList } from '../types.ts';

interface ForStep {
  index: number;
  items: Json[];
  data: Json;
  [key: string]: Json;
}

/**
 * `for`: runs `do` once per item of `in`, as `$<each>` (default `$item`) at `$<at>` (default
 * `$index`), while `while` holds. Each iteration's input is the previous one's output.
 * The loop's progress (index and current data) is durable: a resumed loop continues at the
 * iteration it was in.
 */
export async function forTask(run: TaskRun): Promise<TaskOutcome> {
  const spec = run.def.for as { each?: string; in: string; at?: string };
  const each = spec.each ?? 'item';
  const at = spec.at ?? 'index';
  const whileExpr = run.def.while as string | undefined;
  const tasks = run.def.do as TaskList;
  let step = run.frame.step as ForStep | undefined;
  if (!step) {
    const collection = await run.host.evaluator.evaluate(spec.in, run.input, run.vars, run.site('for.in'));
    const items = Array.isArray(collection) ? collection : collection === null ? [] : typeof collection === 'object' ? Object.values(collection) : undefined;
    if (!items) throw WorkflowError.of('expression', `task "${run.name}": for.in must give an array, got ${typeof collection}`, run.ref, 'Expression error');
    step = { index: 0, items, data: run.input };
    run.frame.step = step;
  }
  const listRef = `${run.ref}/do`;
  while (step.index < step.items.length) {
    const index = step.index;
    const item = step.items[index]!;
    const vars = (name: string) => (name === each ? item : name === at ? index : run.vars(name));
    if (whileExpr !== undefined && !(await run.host.evaluator.test(whileExpr, step.data, vars, run.site('while')))) break;
    const result = await run.host.runList(listRef, tasks, step.data, vars, run.signal);
    step.data = result.output;
    step.index = index + 1;
    if (result.kind === 'flow') return { kind: 'flow', directive: 'end', output: step.data };
  }
  return { kind: 'completed', output: step.data };
}
