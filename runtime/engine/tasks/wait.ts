import { durationMs } from '../duration.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
import type { Json } from '../types.ts';

/**
 * `wait`: pauses until a due time fixed when the task first started, so a resumed wait only
 * waits what is left. The duration may be a runtime expression (DSL 1.0.2) on the task input.
 */
export async function waitTask(run: TaskRun): Promise<TaskOutcome> {
  const step = (run.frame.step ??= {
    until: run.frame.startedAt! + durationMs(await run.host.evaluator.template(run.def.wait as Json, run.input, run.vars, run.site('wait')), run.ref),
  });
  await run.host.sleepUntil(step.until as number, run.ref, run.signal);
  return { kind: 'completed', output: run.input };
}
