import { WorkflowError } from '../errors.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
import type { Json, TaskList } from '../types.ts';

/**
 * `fork`: runs every branch concurrently on the task's input. Without `compete` the output
 * is the array of branch outputs, in declaration order; with it, the first branch to
 * complete wins and the others are cancelled. Finished branches are recorded, so a resumed
 * fork only runs the branches that had not finished.
 */
export async function forkTask(run: TaskRun): Promise<TaskOutcome> {
  const spec = run.def.fork as { branches: TaskList; compete?: boolean };
  const compete = spec.compete === true;
  const step = (run.frame.step ??= { results: {} }) as { results: Record<string, Json>; winner?: number };
  if (compete && step.winner !== undefined) return { kind: 'completed', output: step.results[step.winner]! };
  const controller = new AbortController();
  const forward = () => controller.abort(run.signal.reason);
  run.signal.addEventListener('abort', forward, { once: true });
  const host = run.host;
  const branches = spec.branches.map(async (item, index) => {
    if (Object.hasOwn(step.results, index)) return step.results[index]!;
    const [name, def] = Object.entries(item)[0]!;
    const ref = `${run.ref}/fork/branches/${index}/${name}`;
    const outcome = await host.runTask(name, def, ref, run.input, run.vars, controller.signal);
    if (controller.signal.aborted) throw controller.signal.reason;
    host.commit(ref, outcome);
    step.results[index] = outcome.output;
    if (compete) step.winner ??= index;
    await host.checkpoint();
    return outcome.output;
  });
  try {
    if (compete) {
      const output = await Promise.any(branches);
      controller.abort(new Error('another branch won'));
      return { kind: 'completed', output };
    }
    return { kind: 'completed', output: await Promise.all(branches) };
  } catch (error) {
    controller.abort(error);
    await Promise.allSettled(branches);
    if (error instanceof AggregateError) {
      const first = error.errors.find((e) => e instanceof WorkflowError) ?? error.errors[0];
      throw first;
    }
    throw error;
  } finally {
    run.signal.removeEventListener('abort', forward);
  }
}
