/** The DSL's lifecycle CloudEvents (`io.serverlessworkflow.workflow.*.v1`, `task.*.v1`). */
import type { CloudEvent, InstanceState, Json, JsonObject } from './types.ts';

export type WorkflowLifecycle = 'started' | 'suspended' | 'resumed' | 'cancelled' | 'faulted' | 'completed' | 'correlation-started' | 'correlation-completed';
export type TaskLifecycle = 'created' | 'started' | 'suspended' | 'resumed' | 'retried' | 'cancelled' | 'faulted' | 'completed';

export function qualifiedName(state: InstanceState): string {
  const d = state.definition.document;
  return `${d.name}.${d.namespace}:${d.version ?? '0.0.0'}`;
}

export function lifecycleEvent(state: InstanceState, id: string, time: number, type: string, data: JsonObject): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: `urn:meshflow:workflow:${state.id}`,
    type: `io.serverlessworkflow.${type}.v1`,
    time: new Date(time).toISOString(),
    datacontenttype: 'application/json',
    data: data as Json,
  };
}
