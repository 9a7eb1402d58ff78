/**
 * Everything the engine needs from the outside world. The engine does no I/O of its own:
 * the worker binds these to PostgreSQL, brokers and the network, the CLI to in-process
 * implementations (host/), and tests to fakes (testing/).
 */
import type { CloudEvent, InstanceState, Json, JsonObject, WorkflowDocument } from './types.ts';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface Timers {
  /** Resolves once the clock reaches `until` (epoch ms); rejects when `signal` aborts. */
  sleep(until: number, signal: AbortSignal): Promise<void>;
}

export interface Ids {
  next(): string;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Follow 3xx responses (DSL `redirect: true`); otherwise they are returned as they are. */
  followRedirects: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface HttpPort {
  request(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse>;
}

/** What a `listen` task (or a `schedule.on`) waits for; matching is the engine's job. */
export interface ListenRequest {
  instanceId: string;
  /** JSON pointer of the listening task, unique within the instance. */
  at: string;
  to: Json;
  /**
   * Epoch ms when the listen began (fixed across resumes): a port backed by a durable log
   * replays from here, so events that arrived while no worker held the instance still count.
   * Events the listen already consumed may come again; the engine skips them.
   */
  since: number;
}

export interface EventPort {
  publish(event: CloudEvent): Promise<void>;
  /** Every event that arrives from now on (the engine filters); ends when `signal` aborts. */
  subscribe(request: ListenRequest, signal: AbortSignal): AsyncIterable<CloudEvent>;
}

export interface LifecyclePort {
  /** `io.serverlessworkflow.workflow.*.v1` and `task.*.v1` events. */
  publish(event: CloudEvent): void | Promise<void>;
}

export interface CheckpointStore {
  /**
   * Called at every task boundary with the live state object: persist (or clone) it before
   * the returned promise settles, since the engine keeps mutating it afterwards.
   */
  checkpoint(state: InstanceState): void | Promise<void>;
}

export interface WorkflowResolver {
  resolve(ref: { namespace: string; name: string; version: string }): Promise<WorkflowDocument>;
  /**
   * Starts the workflow as an instance of its own with the given id, durably, for subflows run
   * with `await: false`; starting the same id twice starts it once. Without it such subflows
   * run beside their parent in this process.
   */
  start?(ref: { namespace: string; name: string; version: string }, input: Json, id: string): Promise<void>;
}

export interface SecretsPort {
  /** Values of the named secrets; a missing name is absent from the result. */
  resolve(names: string[]): Promise<Record<string, Json>>;
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** For scripts: the value the script returned, when it returned one. */
  result?: Json;
}

export interface ScriptRequest {
  language: string;
  code: string;
  arguments: JsonObject;
  environment: Record<string, string>;
  timeoutMs: number;
}

export interface ScriptPort {
  run(request: ScriptRequest, signal: AbortSignal): Promise<ProcessResult>;
}

/** Shell commands and containers: only bound when an operator turns them on. */
export interface ProcessPort {
  shell(request: { command: string; arguments: JsonObject; environment: Record<string, string> }, signal: AbortSignal): Promise<ProcessResult>;
  container(request: JsonObject, signal: AbortSignal): Promise<ProcessResult>;
}

export interface AsyncApiRequest {
  document: Json;
  operation: string;
  channel?: string;
  server?: Json;
  protocol?: string;
  message?: Json;
  subscription?: Json;
  authentication?: Json;
}

/** Broker publish/subscribe described by an AsyncAPI document; the connectors implement it. */
export interface AsyncApiPort {
  /**
   * A document the connector layer describes itself (e.g. `meshflow://connectors/mqtt`, which
   * the broker target nodes reference), or undefined to read it over HTTP as usual.
   */
  document?(reference: Json): Json | undefined;
  publish(request: AsyncApiRequest, signal: AbortSignal): Promise<void>;
  subscribe(request: AsyncApiRequest, signal: AbortSignal): AsyncIterable<Json>;
}

/** A Model Context Protocol call (`call: mcp`, dsl-reference.md "MCP Call"), arguments evaluated. */
export interface McpRequest {
  method: string;
  parameters?: JsonObject;
  /** The protocol version the workflow asks for; the client negotiates it with the server. */
  protocolVersion?: string;
  client?: { name: string; version: string };
  transport:
    | { http: { endpoint: string; headers?: Record<string, string> }; options?: Record<string, string> }
    | { stdio: { command: string; arguments?: string[]; environment?: Record<string, string> }; options?: Record<string, string> };
}

/**
 * Talks to MCP servers: connects (the `initialize` handshake), sends the one request and
 * answers with its JSON-RPC result. An MCP error response or a failed connection rejects.
 */
export interface McpPort {
  call(request: McpRequest, signal: AbortSignal): Promise<Json>;
}

/** Functions of the runtime's `default` catalog (`call: name:version@default`). */
export interface FunctionCatalog {
  resolve(name: string, version: string): Promise<JsonObject | undefined>;
}

export interface EnginePorts {
  clock: Clock;
  timers: Timers;
  ids: Ids;
  /** Uniform in [0, 1), for retry jitter; defaults to Math.random. */
  random?: () => number;
  http: HttpPort;
  events: EventPort;
  lifecycle?: LifecyclePort;
  store?: CheckpointStore;
  workflows?: WorkflowResolver;
  secrets?: SecretsPort;
  scripts?: ScriptPort;
  processes?: ProcessPort;
  asyncapi?: AsyncApiPort;
  /** `call: mcp`; its stdio transport starts a process, so it also needs `allowProcesses`. */
  mcp?: McpPort;
  catalog?: FunctionCatalog;
}
