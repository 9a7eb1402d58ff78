import type { TaskOutcome, TaskRun } from '../interpreter.ts';

type SwitchCase = { when?: string; then?: string };

/**
 * `switch`: the first case whose `when` holds decides where to go; a case without `when`
 * is the default. With no match and no default, the task's own `then` applies. The input
 * passes through unchanged.
 */
export function switchTask(run: TaskRun): TaskOutcome {
  const cases = run.def.switch as Record<string, SwitchCase>[];
  let fallback: string | undefined;
  for (const [index, item] of cases.entries()) {
    const [name, c] = Object.entries(item)[0]!;
    if (c.when === undefined) {
      fallback ??= c.then ?? 'continue';
      continue;
    }
    if (run.it.evaluator.test(c.when, run.input, run.vars, run.site(`switch/${index}/${name}/when`))) return { output: run.input, then: c.then ?? 'continue' };
  }
  return fallback === undefined ? { output: run.input } : { output: run.input, then: fallback };
}
