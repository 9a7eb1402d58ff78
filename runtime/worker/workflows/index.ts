/** Workflow runs in the worker, and the run controls the studio can call. */
export { cancelRun, resumeRun, suspendRun, type Queryable, type RunControlOutcome } from './control.ts';
export { RunExecutor, type RunExecutorOptions } from './executor.ts';
export { RunStartingQueue } from './run-starter.ts';
export { RunStore } from './run-store.ts';
export { CompiledTrigger, WorkflowRoutingSet, workflowTrigger, type WorkflowTrigger } from './triggers.ts';
