import { WorkflowError } from '../errors.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
import type { CloudEvent, Json, JsonObject } from '../types.ts';

/** `emit`: publishes a CloudEvent through the event port; the output is the event as published. */
export async function emitTask(run: TaskRun): Promise<TaskOutcome> {
  const spec = (run.def.emit as { event: { with: JsonObject } }).event.with;
  const attributes = (await run.host.evaluator.template(spec as Json, run.input, run.vars, run.site('emit.event.with'))) as JsonObject;
  if (typeof attributes.source !== 'string' || typeof attributes.type !== 'string') {
    throw WorkflowError.of('validation', `task "${run.name}": an emitted event needs a string source and type`, run.ref, 'Validation error');
  }
  const event: CloudEvent = {
    ...(attributes as Record<string, Json>),
    specversion: typeof attributes.specversion === 'string' ? attributes.specversion : '1.0',
    id: typeof attributes.id === 'string' ? attributes.id : run.host.ports.ids.next(),
    source: attributes.source,
    type: attributes.type,
    time: typeof attributes.time === 'string' ? attributes.time : new Date(run.host.now()).toISOString(),
  };
  if (event.data !== undefined && event.datacontenttype === undefined) event.datacontenttype = 'application/json';
  await run.host.ports.events.publish(event);
  return { kind: 'completed', output: event as unknown as Json };
}
