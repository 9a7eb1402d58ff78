/** Runs a workflow to its end in this process, with real ports: what `meshflow run` and studio test runs use. */
import { Engine } from './engine.ts';
import { WorkflowError } from './errors.ts';
import { createNodePorts, type NodePortsOptions } from './host/node-ports.ts';
import type { RunResult } from './types.ts';
import type { JqRuntime } from '../expressions/jq.ts';
import type { EnginePorts } from './ports.ts';
import type { Json, WorkflowDocument } from './types.ts';

export interface RunOptions extends NodePortsOptions {
  /** Cancels the run (as a timeout fault) after this many milliseconds. */
  timeoutMs?: number;
  allowProcesses?: boolean;
  /** Replaces some of the real ports. */
  ports?: Partial<EnginePorts>;
  /** The jq runtime for this run's expressions (e.g. withTotalBudget); the process-wide one when absent. */
  jq?: JqRuntime;
}

export async function runWorkflow(definition: WorkflowDocument, input: Json, options: RunOptions = {}): Promise<RunResult> {
  const ports = { ...createNodePorts(options), ...options.ports };
  const engine = new Engine({ ports, allowProcesses: options.allowProcesses === true, ...(options.jq ? { jq: options.jq } : {}) });
  const handle = engine.start(definition, input);
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          handle.cancel();
        }, options.timeoutMs);
  try {
    const result = await handle.done;
    if (timedOut && result.status === 'cancelled') {
      const error = WorkflowError.of('timeout', `the run did not finish within ${options.timeoutMs} ms`, '/', 'Run timed out').problem;
      return { status: 'faulted', error, state: result.state };
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}
