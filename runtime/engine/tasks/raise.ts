import { WorkflowError } from '../errors.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
import type { Json, JsonObject } from '../types.ts';

/** `raise`: faults with the given error (inline, or by name from `use.errors`); fields may be expressions. */
export function raiseTask(run: TaskRun): TaskOutcome | Promise<TaskOutcome> {
  const spec = (run.def.raise as { error: string | JsonObject }).error;
  let error: JsonObject;
  if (typeof spec === 'string') {
    const named = run.host.definition.use?.errors?.[spec];
    if (!named) throw WorkflowError.of('configuration', `error "${spec}" is not defined in use.errors`, run.ref);
    error = named;
  } else error = spec;
  const value = run.host.evaluator.template(error as Json, run.input, run.vars, run.site('raise.error'));
  return value instanceof Promise ? value.then((v) => raise(run, v as JsonObject)) : raise(run, value as JsonObject);
}

function raise(run: TaskRun, value: JsonObject): never {
  const status = typeof value.status === 'string' ? Number(value.status) : value.status;
  throw new WorkflowError({
    ...(value as Record<string, Json>),
    type: String(value.type),
    status: typeof status === 'number' && Number.isFinite(status) ? status : 500,
    instance: typeof value.instance === 'string' ? value.instance : run.ref,
  });
}
