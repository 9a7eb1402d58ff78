/** Public surface of the Serverless Workflow DSL 1.0 engine. */
export { createEngine, Engine, RUNTIME_NAME, RUNTIME_VERSION, type EngineOptions, type RunHandle } from './engine.ts';
export type * from './ports.ts';
export type { CloudEvent, InstanceState, InstanceStatus, Json, JsonObject, RunResult, WorkflowDocument } from './types.ts';
export { ERROR_TYPE_BASE, errorType, WorkflowError, type ProblemDetails } from './errors.ts';
export { formatDiagnostics, loadWorkflow, validateWorkflow, type Diagnostic } from './validate.ts';
export { parseWorkflowText } from './load.ts';
export { runWorkflow, type RunOptions } from './runner.ts';
export { nextScheduledRun } from './schedule.ts';
