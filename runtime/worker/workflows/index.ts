/** Workflow runs in the worker, and the run controls the studio can call. */
export { cancelRun, resumeRun, suspendRun, type Queryable, type RunControlOutcome } from './control.ts';
export { RunExecutor, type RunExecutorOptions } from './executor.ts';
export { RunStartingQueue } from './run-starter.ts';
export { RunStore } from './run-store.ts';
export { FlowDefinitions } from './definitions.ts';
export { dueTime, Scheduler, timeSchedule, type ScheduleHistory, type ScheduledDeployment } from './scheduler.ts';
export { CompiledTrigger, WorkflowRoutingSet, workflowTrigger, type WorkflowTrigger } from './triggers.ts';
