import { durationMs } from '../duration.ts';
import type { TaskOutcome, TaskRun } from '../interpreter.ts';

/** `wait`: pauses until a due time fixed when the task first started, so a resumed wait only waits what is left. */
export async function waitTask(run: TaskRun): Promise<TaskOutcome> {
  const step = (run.frame.step ??= { until: run.frame.startedAt! + durationMs(run.def.wait, run.ref) });
  await run.it.sleepUntil(step.until as number, run.ref, run.signal);
  return { output: run.input };
}
