/** Runs a scenario's workflow text the way `meshflow run` does, with ports a test can inspect. */
import { parse } from 'yaml';
import { Engine } from '@/runtime/engine/engine';
import { createNodePorts } from '@/runtime/engine/host/node-ports';
import type { RunResult } from '@/runtime/engine/types';
import type { EnginePorts } from '@/runtime/engine/ports';
import { RecordedLifecycle } from '@/runtime/engine/testing/fake-ports';
import type { Json, WorkflowDocument } from '@/runtime/engine/types';

export interface ScenarioRun {
  result: RunResult;
  output: Json;
  /** Task names in the order they started. */
  started: string[];
  lifecycle: RecordedLifecycle;
}

export async function runScenario(yaml: string, input: Json = {}, ports: Partial<EnginePorts> = {}, options: { allowProcesses?: boolean } = {}): Promise<ScenarioRun> {
  const lifecycle = new RecordedLifecycle();
  const engine = new Engine({ ports: { ...createNodePorts(), lifecycle, ...ports }, allowProcesses: options.allowProcesses === true });
  const result = await engine.start(parse(yaml) as WorkflowDocument, input).done;
  // Lifecycle events are published asynchronously; let them land.
  await new Promise((resolve) => setImmediate(resolve));
  const started = lifecycle.events
    .filter((e) => e.type === 'io.serverlessworkflow.task.started.v1')
    .map((e) => String((e.data as { task: string }).task).split('/').pop()!);
  return { result, output: result.status === 'completed' ? result.output : null, started, lifecycle };
}

/** Reads `a.b.c` inside a value. */
export function at(value: Json, path: string): Json | undefined {
  let current: Json | undefined = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = current[key];
  }
  return current;
}
