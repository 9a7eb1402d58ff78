import type { TaskOutcome, TaskRun } from './host.ts';
import type { TaskList } from '../types.ts';

/** `do`: runs its subtasks in order; the output is the last one's. */
export async function doTask(run: TaskRun): Promise<TaskOutcome> {
  return run.host.runList(`${run.ref}/do`, run.def.do as TaskList, run.input, run.vars, run.signal);
}
