/**
 * The shape of a node definition and of the flow graph. Everything that reads the registry
 * (palette, inspector, compiler, worker) depends only on these types.
 */
import { z } from 'zod';
import type { FilterDefinition } from '../expressions/filters/index.ts';
import type { TransformDefinition } from '../expressions/transforms/index.ts';

export type NodeCategory = 'source' | 'filter' | 'transform' | 'control' | 'target';

export const nodeCategories: readonly NodeCategory[] = ['source', 'filter', 'transform', 'control', 'target'];

/**
 * What an output port means to the compiler:
 * - `next`: the sequential continuation (the task's `then`);
 * - `jump`: a named branch whose target becomes a flow directive inside the task (switch case);
 * - `list`: a nested task list (for-each body, try block, catch block);
 * - `branches`: fork branches, one per edge.
 */
export type PortRole = 'next' | 'jump' | 'list' | 'branches';

export interface OutputPort {
  id: string;
  label: string;
  role: PortRole;
  /** A `list` or `branches` port the flow may leave unconnected (a catch block); others must be wired. */
  optional?: boolean;
}

export interface Ports {
  /** Sources have no input; everything else has exactly one input, `in`. */
  input: boolean;
  outputs: OutputPort[];
}

export type DslTask = Record<string, unknown>;
export type DslTaskList = Record<string, DslTask>[];

/** A fragment of the workflow's `schedule` produced by a source node. */
export type ScheduleFragment = Record<string, unknown>;

/** Handed to a node's compile function: how its outputs resolve in the emitted document. */
export interface CompileContext {
  /** The task list compiled from a `list` port's chain (empty when unconnected). */
  list(port: string): DslTaskList;
  /** Fork branches compiled from a `branches` port's edges. */
  branches(port: string): DslTaskList;
  /** The flow directive for a `jump` port: a task name, `continue`, or `end`/`exit` when unconnected. */
  jump(port: string): string;
  /** The directive that stops this path: `end` at the top level, `exit` inside a composite task. */
  stop(): string;
}

/** What a task node compiles to. `meta` lands in `metadata.meshflow` next to kind and position. */
export interface TaskOutput {
  task: DslTask;
  meta?: Record<string, unknown>;
}

/** A connector's runtime binding: the worker finds its consumer/producer by `system`. */
export interface Binding {
  system: 'http-webhook' | 'cloudevents-http' | 'schedule' | 'mqtt' | 'nats' | 'amqp' | 'redis' | 'kafka' | 'http';
  direction: 'source' | 'target';
}

/**
 * What a task means to the data plane's fast path (runtime/events/plan.ts), which runs
 * pipeline-shaped flows without the engine: a filter predicate or a transform, with the
 * meaning its compiled task has in the engine (test/unit/events/differential.test.ts holds
 * the two to the same answers).
 */
export type PipelineMeaning =
  | {
      role: 'filter';
      filter: FilterDefinition;
      /** `fault`: an error evaluating it fails the event, as a jq `when` fails a run in the engine; `drop` (default): the filter does not match. */
      onError?: 'drop' | 'fault';
    }
  | { role: 'transform'; transform: TransformDefinition; parseJson?: boolean };

interface DefinitionBase<Schema extends z.ZodType> {
  kind: string;
  title: string;
  category: NodeCategory;
  /** A lucide icon name (kebab-case), resolved by the studio. */
  icon: string;
  description: string;
  /** Parses and defaults the node's configuration; `schema.parse({})` must succeed. */
  schema: Schema;
  ports(config: z.output<Schema>): Ports;
  binding?: Binding;
  /** Generic kinds stand for raw DSL tasks of documents Meshflow did not write; the palette hides them. */
  generic?: boolean;
  /** What is valid but cannot work as meant (shown as warnings on the node); `path` is inside the config. */
  warnings?(config: z.output<Schema>): { message: string; path: (string | number)[] }[];
}

export interface TaskNodeDefinition<Schema extends z.ZodType = z.ZodType> extends DefinitionBase<Schema> {
  compile(config: z.output<Schema>, ctx: CompileContext): TaskOutput;
  /** Its meaning as a step of a pipeline, for kinds the data plane runs itself; absent otherwise. */
  pipeline?(config: z.output<Schema>): PipelineMeaning;
  /**
   * Reads a config back from a task this kind wrote (with `then` and `metadata` removed).
   * Returns undefined when the task is not of this kind's shape; the decompiler re-compiles the
   * result and keeps it only if it reproduces the task, so this may be approximate.
   */
  decompile(task: DslTask, meta: Record<string, unknown>): unknown;
}

export interface SourceNodeDefinition<Schema extends z.ZodType = z.ZodType> extends DefinitionBase<Schema> {
  category: 'source';
  compileSource(config: z.output<Schema>): { schedule: ScheduleFragment; meta?: Record<string, unknown> };
  decompileSource(schedule: ScheduleFragment, meta: Record<string, unknown>): unknown;
}

export type NodeDefinition = TaskNodeDefinition | SourceNodeDefinition;

export function isSourceDefinition(def: NodeDefinition): def is SourceNodeDefinition {
  return 'compileSource' in def;
}

/** Lets a kind file keep its config type while the registry stores the erased shape. */
export function defineTaskNode<Schema extends z.ZodType>(def: TaskNodeDefinition<Schema>): TaskNodeDefinition {
  return def as unknown as TaskNodeDefinition;
}

export function defineSourceNode<Schema extends z.ZodType>(def: SourceNodeDefinition<Schema>): SourceNodeDefinition {
  return def as unknown as SourceNodeDefinition;
}

export const nextPort: OutputPort = { id: 'out', label: 'Out', role: 'next' };
export const linearPorts: Ports = { input: true, outputs: [nextPort] };
export const sourcePorts: Ports = { input: false, outputs: [nextPort] };

// ─── the graph ──────────────────────────────────────────────────────────────────────────

export const positionSchema = z.object({ x: z.number(), y: z.number() });

export const graphNodeSchema = z.object({
  /** Unique in the graph; also the DSL task name, so keep it readable (`http-request-1`). */
  id: z.string().min(1),
  kind: z.string().min(1),
  label: z.string().optional(),
  position: positionSchema.optional(),
  config: z.record(z.string(), z.unknown()).default({}),
});

export const graphEdgeSchema = z.object({
  id: z.string().min(1),
  source: z.string().min(1),
  /** Output port id of the source node; `out` when omitted. */
  sourcePort: z.string().optional(),
  target: z.string().min(1),
  /** For fork branches: the name of the branch's `do` wrapper task. */
  label: z.string().optional(),
});

export const flowGraphSchema = z.object({
  document: z.object({
    /** The DSL 1.0.x release a document opened from YAML declares; a flow written here declares DSL_VERSION (runtime/compiler). */
    dsl: z
      .string()
      .regex(/^1\.0\.\d+$/, 'a DSL 1.0.x release, e.g. 1.0.3')
      .optional(),
    namespace: z.string().min(1).default('default'),
    name: z.string().min(1).default('flow'),
    version: z.string().min(1).default('0.1.0'),
    title: z.string().optional(),
    summary: z.string().optional(),
    tags: z.record(z.string(), z.unknown()).optional(),
    /** Document metadata other than Meshflow's own. */
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
  /** Top-level workflow properties the graph does not model (use, input, output, timeout…), kept verbatim. */
  workflow: z.record(z.string(), z.unknown()).optional(),
  nodes: z.array(graphNodeSchema),
  edges: z.array(graphEdgeSchema),
});

export type Position = z.infer<typeof positionSchema>;
export type GraphNode = z.infer<typeof graphNodeSchema>;
export type GraphEdge = z.infer<typeof graphEdgeSchema>;
export type FlowGraph = z.infer<typeof flowGraphSchema>;
/** What a caller may hand in: defaults not yet applied. */
export type FlowGraphInput = z.input<typeof flowGraphSchema>;
