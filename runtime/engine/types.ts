/**
 * Shapes of a DSL 1.0 document as the engine reads it (after validation), and of an
 * instance's durable state. Task bodies stay loosely typed: each task file narrows the
 * part it owns.
 */

/** An error as RFC 7807 problem details (DSL 1.0 "Errors"); errors.ts builds and matches them. */
export interface ProblemDetails {
  type: string;
  status: number;
  title?: string;
  detail?: string;
  instance?: string;
  [extension: string]: Json | undefined;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface SchemaDefinition {
  format?: string;
  document?: Json;
  resource?: EndpointDefinition;
}

export type EndpointDefinition = string | { uri: string; authentication?: AuthenticationDefinition | string };
export type AuthenticationDefinition = { use?: string } & Record<string, unknown>;

export interface TaskBase {
  if?: string;
  input?: { schema?: SchemaDefinition; from?: string | Json };
  output?: { schema?: SchemaDefinition; as?: string | Json };
  export?: { schema?: SchemaDefinition; as?: string | Json };
  timeout?: string | { after: Json };
  then?: string;
  metadata?: JsonObject;
}

export type TaskDefinition = TaskBase & Record<string, unknown>;
export type TaskItem = Record<string, TaskDefinition>;
export type TaskList = TaskItem[];

export interface WorkflowDocument {
  document: { dsl: string; namespace: string; name: string; version?: string; title?: string; summary?: string; tags?: JsonObject; metadata?: JsonObject };
  input?: { schema?: SchemaDefinition; from?: string | Json };
  use?: {
    authentications?: Record<string, AuthenticationDefinition>;
    errors?: Record<string, JsonObject>;
    extensions?: Json[];
    functions?: Record<string, TaskDefinition>;
    retries?: Record<string, JsonObject>;
    secrets?: string[];
    timeouts?: Record<string, { after: Json }>;
    catalogs?: Record<string, { endpoint: EndpointDefinition }>;
  };
  do: TaskList;
  timeout?: string | { after: Json };
  output?: { schema?: SchemaDefinition; as?: string | Json };
  schedule?: JsonObject;
  evaluate?: { language?: string; mode?: 'strict' | 'loose' };
}

export type InstanceStatus = 'pending' | 'running' | 'waiting' | 'suspended' | 'cancelled' | 'faulted' | 'completed';

/**
 * Progress of one task or task list, keyed by its JSON pointer in the document. Only frames
 * of work still under way are kept: a completed task's frames are dropped and its result
 * moves into its parent's progress, so the state stays as small as the active task tree.
 */
export interface Frame {
  /** Epoch ms when the task first started; stays fixed across resumes. */
  startedAt?: number;
  /** Epoch ms after which the task times out. */
  deadline?: number;
  /** Task-kind specific progress (list cursor, loop index, retry attempt, due time…). */
  step?: JsonObject;
}

export interface InstanceState {
  version: 1;
  id: string;
  status: InstanceStatus;
  definition: WorkflowDocument;
  /** Raw workflow input, as given. */
  input: Json;
  context: Json;
  startedAt: number;
  deadline?: number;
  frames: Record<string, Frame>;
  output?: Json;
  error?: ProblemDetails;
  /** Things the instance waits for, for the worker to see without walking frames. */
  waitingFor?: { timers: { at: string; until: number }[]; listens: { at: string; to: Json }[] };
}

/** How a run ended, as `Engine.start(…).done` and a subflow's parent see it. */
export type RunResult =
  | { status: 'completed'; output: Json; state: InstanceState }
  | { status: 'faulted'; error: ProblemDetails; state: InstanceState }
  | { status: 'cancelled'; state: InstanceState }
  | { status: 'stopped'; state: InstanceState };

export interface CloudEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: Json;
  [extension: string]: Json | undefined;
}
