/** Workflow runs in the worker. What starts a run, and the run controls the studio calls, are in runtime/runs/. */
export { RunExecutor, type RunExecutorOptions } from './executor.ts';
export { RunStartingQueue } from './run-starter.ts';
export { RunStore } from './run-store.ts';
export { FlowDefinitions } from './definitions.ts';
export { dueTime, Scheduler, timeSchedule, type ScheduleHistory, type ScheduledDeployment } from './scheduler.ts';
