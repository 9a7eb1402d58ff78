import type { TaskOutcome, TaskRun } from './host.ts';
import type { Json } from '../types.ts';

/** `set`: the output is the given object (or expression result), evaluated on the task input. */
export function setTask(run: TaskRun): TaskOutcome | Promise<TaskOutcome> {
  const body = run.def.set as Json;
  const site = run.site('set');
  const output = typeof body === 'string' ? run.host.evaluator.evaluate(body, run.input, run.vars, site) : run.host.evaluator.template(body, run.input, run.vars, site);
  return output instanceof Promise ? output.then((o): TaskOutcome => ({ kind: 'completed', output: o })) : { kind: 'completed', output };
}
