import { parse } from 'yaml';
import { Engine } from '@/runtime/engine/engine';
import type { RunResult } from '@/runtime/engine/types';
import type { EnginePorts } from '@/runtime/engine/ports';
import { createFakePorts, type FakePorts, type HttpRoute } from '@/runtime/engine/testing/fake-ports';
import type { Json, WorkflowDocument } from '@/runtime/engine/types';

export const HEADER = `document:\n  dsl: '1.0.0'\n  namespace: test\n  name: wf\n  version: '1.0.0'\n`;

export function workflow(body: string): WorkflowDocument {
  return parse(HEADER + body) as WorkflowDocument;
}

export async function run(body: string, input: Json = {}, options: { routes?: Record<string, HttpRoute>; ports?: Partial<EnginePorts>; allowProcesses?: boolean } = {}): Promise<RunResult & { ports: FakePorts }> {
  const ports = createFakePorts({ ...(options.routes ? { routes: options.routes } : {}) });
  const engine = new Engine({ ports: { ...ports, ...options.ports }, allowProcesses: options.allowProcesses === true });
  const result = await engine.start(workflow(body), input).done;
  return { ...result, ports };
}

export function outputOf(result: RunResult): Json {
  if (result.status !== 'completed') throw new Error(`expected completion, got ${result.status}: ${JSON.stringify(result.status === 'faulted' ? result.error : null)}`);
  return result.output;
}

export function errorOf(result: RunResult) {
  if (result.status !== 'faulted') throw new Error(`expected a fault, got ${result.status}`);
  return result.error;
}
