/**
 * Graph → Serverless Workflow DSL 1.0. Pure and deterministic: the same graph always gives
 * the same document and YAML (node array order breaks every tie), so documents diff well in
 * git and snapshot tests hold.
 *
 * Each non-source node becomes one task named by the node id. Sequence is the task list's
 * order plus `then` where the successor is not the next task; list ports (for-each body,
 * try, catch) become nested task lists; fork branches are one task each, wrapped in a `do`
 * when longer than one node. Sources merge into the workflow's `schedule`.
 */
import { getNodeDefinition } from '../nodes/index.ts';
import { secretReferences } from '../secrets/names.ts';
import {
  flowGraphSchema,
  isSourceDefinition,
  type CompileContext,
  type DslTask,
  type DslTaskList,
  type FlowGraph,
  type GraphEdge,
  type GraphNode,
  type NodeDefinition,
  type Ports,
  type TaskOutput,
} from '../nodes/types.ts';
import { toBlockYaml } from './block-yaml.ts';
import { findCycles } from './cycles.ts';
import { cloudEventShape, fieldsOf, inferShapes, shapeFromSchema, type FieldInfo, type ShapeNode } from './data-shapes.ts';
import type { Diagnostic } from './diagnostics.ts';
import { jqSyntaxError } from './expression-syntax.ts';
import { validateDocument } from './validate.ts';
import { META_KEY, type BranchMeta, type DocumentMeta, type SourceMeta, type TaskMeta } from './metadata.ts';

/**
 * The Serverless Workflow DSL release Meshflow targets and writes for new flows (the
 * specification's newest; its examples say `dsl: '1.0.3'`). Documents of any 1.0.x release
 * open, validate and run, and keep the release they declare when written back.
 */
export const DSL_VERSION = '1.0.3';

export type WorkflowDocument = Record<string, unknown> & { document: Record<string, unknown>; do: DslTaskList };

export interface CompileResult {
  /** Null only when the input is not a graph at all. */
  document: WorkflowDocument | null;
  yaml: string;
  diagnostics: Diagnostic[];
  /** node id → the data fields known to reach it (from the catalog schemas), for expression completion. */
  fields: Record<string, FieldInfo[]>;
}

export interface CompileOptions {
  /** Event type → JSON Schema of its `data`, from the catalog; the caller does the lookup. */
  schemas?: Readonly<Record<string, unknown>>;
  /** The document name to write instead of the graph's own (the studio passes its flow title's, see document-name.ts). */
  name?: string;
}

interface ResolvedNode {
  node: GraphNode;
  def: NodeDefinition;
  /** Undefined when the configuration is invalid (reported); the node still takes part in the structure. */
  config: Record<string, unknown> | undefined;
  ports: Ports;
}

interface Scope {
  key: number;
  nested: boolean;
  order: string[];
}

const invalidNodeError = 'https://meshflow.dev/errors/invalid-node';

/**
 * A flow reads only the secrets its `use.secrets` declares; the secrets its nodes' expressions
 * name (`$secrets.token`) are declared for it, after any declared by hand. Undefined when
 * nothing needs adding.
 */
function declaredSecrets(given: unknown, tasks: DslTaskList): Record<string, unknown> | undefined {
  const use = (typeof given === 'object' && given !== null && !Array.isArray(given) ? given : {}) as Record<string, unknown>;
  const declared = Array.isArray(use.secrets) ? use.secrets.filter((n): n is string => typeof n === 'string') : [];
  const named = secretReferences(tasks).filter((n) => !declared.includes(n));
  return named.length === 0 ? undefined : { ...use, secrets: [...declared, ...named] };
}

/** The document as YAML: block style, no line folding, no anchors (see block-yaml.ts). */
export function toYaml(document: unknown): string {
  return toBlockYaml(document);
}

export function compile(input: unknown, options: CompileOptions = {}): CompileResult {
  const parsed = flowGraphSchema.safeParse(input);
  if (!parsed.success) {
    return {
      document: null,
      yaml: '',
      fields: {},
      diagnostics: parsed.error.issues.map((issue) => ({
        severity: 'error',
        code: 'invalid-graph',
        message: issue.message,
        path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      })),
    };
  }
  return new GraphCompiler(parsed.data, options).run();
}

class GraphCompiler {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly nodes = new Map<string, ResolvedNode>();
  /** node id → output port → edges, in graph order. */
  private readonly outgoing = new Map<string, Map<string, GraphEdge[]>>();
  private readonly incoming = new Map<string, GraphEdge[]>();
  private readonly scopes: Scope[] = [];
  private readonly scopeOf = new Map<string, number>();
  /** `nodeId\0port` of a list port, or the edge id of a fork branch → its scope. */
  private readonly nestedScope = new Map<string, number>();
  private readonly built = new Set<string>();
  /** node id → the task it compiled to and the nested lists inside it, for type inference. */
  private readonly compiledTasks = new Map<string, { task: DslTask; nested: Set<unknown> }>();

  constructor(
    private readonly graph: FlowGraph,
    private readonly options: CompileOptions,
  ) {}

  run(): CompileResult {
    this.resolveNodes();
    this.resolveEdges();
    const { schedule, sources, entry } = this.compileSources();
    this.checkConnectivity();
    for (const cycle of findCycles(this.taskNodeIds(), (id) => this.successors(id))) {
      const path = `${cycle.join(' → ')} → ${cycle[0]}`;
      // A loop through a switch or filter may end when it routes elsewhere (a DSL retry loop
      // is written that way), so it is a warning there; with no way out it is an error.
      const exit = cycle.find((id) => this.nodes.get(id)!.ports.outputs.some((p) => p.role === 'jump'));
      for (const id of cycle) {
        if (exit === undefined) this.report({ severity: 'error', code: 'cycle', nodeId: id, message: `the path ${path} loops forever; loop with a For each, or break it with a Switch` });
        else this.report({ severity: 'warning', code: 'cycle', nodeId: id, message: `the path ${path} loops: an event goes round for as long as ${exit} sends it back; make sure ${exit} can leave the loop` });
      }
    }

    const top = this.newScope(false);
    const roots = this.taskNodeIds().filter((id) => !this.incoming.has(id));
    this.claim(top, entry === undefined ? roots : [entry, ...roots]);
    for (const id of this.taskNodeIds()) if (!this.scopeOf.has(id)) this.claim(top, [id]);

    const { document: doc } = this.graph;
    const documentMeta: DocumentMeta = { sources };
    const extras = Object.entries(this.graph.workflow ?? {}).filter(([key]) => key !== 'document' && key !== 'do' && key !== 'schedule');
    const tasks = this.buildList(top);
    const use = declaredSecrets(this.graph.workflow?.use, tasks);
    const document: WorkflowDocument = {
      document: {
        dsl: doc.dsl ?? DSL_VERSION,
        namespace: doc.namespace,
        name: this.options.name ?? doc.name,
        version: doc.version,
        ...(doc.title !== undefined ? { title: doc.title } : {}),
        ...(doc.summary !== undefined ? { summary: doc.summary } : {}),
        ...(doc.tags !== undefined ? { tags: doc.tags } : {}),
        metadata: { ...doc.metadata, [META_KEY]: documentMeta },
      },
      ...Object.fromEntries(extras),
      ...(use ? { use } : {}),
      ...(schedule ? { schedule } : {}),
      do: tasks,
    };
    for (const id of this.scopeOf.keys()) {
      if (!this.built.has(id)) this.report({ severity: 'error', code: 'invalid-edge', nodeId: id, message: `${id} is wired to an output its predecessor does not use, so it would never run` });
    }
    const fields = this.inferTypes();
    return { document, yaml: toYaml(document), diagnostics: this.diagnostics, fields };
  }

  private report(diagnostic: Diagnostic): void {
    this.diagnostics.push(diagnostic);
  }

  private taskNodeIds(): string[] {
    return [...this.nodes.values()].filter((r) => !isSourceDefinition(r.def)).map((r) => r.node.id);
  }

  private edges(id: string, port: string): GraphEdge[] {
    return this.outgoing.get(id)?.get(port) ?? [];
  }

  private successors(id: string): string[] {
    return [...(this.outgoing.get(id)?.values() ?? [])].flat().map((e) => e.target);
  }

  private resolveNodes(): void {
    for (const node of this.graph.nodes) {
      if (this.nodes.has(node.id)) {
        this.report({ severity: 'error', code: 'duplicate-node', nodeId: node.id, message: `two nodes have the id "${node.id}"; ids name the tasks and must be unique` });
        continue;
      }
      const def = getNodeDefinition(node.kind);
      if (!def) {
        this.report({ severity: 'error', code: 'unknown-kind', nodeId: node.id, message: `unknown node kind "${node.kind}"` });
        continue;
      }
      const result = def.schema.safeParse(node.config);
      if (!result.success) {
        for (const issue of result.error.issues) {
          this.report({
            severity: 'error',
            code: 'invalid-config',
            nodeId: node.id,
            path: ['config', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
            message: issue.message,
          });
        }
      }
      const config = result.success ? (result.data as Record<string, unknown>) : undefined;
      for (const warning of config && def.warnings ? def.warnings(config) : []) {
        this.report({ severity: 'warning', code: 'invalid-config', nodeId: node.id, path: ['config', ...warning.path], message: warning.message });
      }
      this.nodes.set(node.id, { node, def, config, ports: def.ports(config ?? def.schema.parse({})) });
    }
  }

  private resolveEdges(): void {
    for (const edge of this.graph.edges) {
      const from = this.nodes.get(edge.source);
      const to = this.nodes.get(edge.target);
      if (!from || !to) {
        const missing = from ? edge.target : edge.source;
        this.report({ severity: 'error', code: 'invalid-edge', edgeId: edge.id, message: `the edge connects "${missing}", which is not a node of this flow` });
        continue;
      }
      const portId = edge.sourcePort ?? 'out';
      const port = from.ports.outputs.find((p) => p.id === portId);
      if (!port) {
        const ports = from.ports.outputs.map((p) => p.id).join(', ') || 'none';
        this.report({ severity: 'error', code: 'invalid-edge', edgeId: edge.id, nodeId: from.node.id, message: `${from.def.title} has no output "${portId}" (outputs: ${ports})` });
        continue;
      }
      if (!to.ports.input) {
        this.report({ severity: 'error', code: 'invalid-edge', edgeId: edge.id, nodeId: to.node.id, message: `${to.def.title} is a source and takes no input` });
        continue;
      }
      const byPort = this.outgoing.get(from.node.id) ?? new Map<string, GraphEdge[]>();
      this.outgoing.set(from.node.id, byPort);
      const existing = byPort.get(portId) ?? [];
      if (existing.length > 0 && port.role !== 'branches') {
        this.report({
          severity: 'error',
          code: 'fan-out',
          edgeId: edge.id,
          nodeId: from.node.id,
          message: `output "${port.label}" of ${from.node.id} is already connected to ${existing[0]!.target}; send to several targets through a Parallel node`,
        });
        continue;
      }
      byPort.set(portId, [...existing, edge]);
      this.incoming.set(to.node.id, [...(this.incoming.get(to.node.id) ?? []), edge]);
    }
  }

  private compileSources(): { schedule: Record<string, unknown> | undefined; sources: SourceMeta[]; entry: string | undefined } {
    let schedule: Record<string, unknown> | undefined;
    const sources: SourceMeta[] = [];
    const entries = new Set<string>();
    for (const { node, def, config } of this.nodes.values()) {
      if (!isSourceDefinition(def)) continue;
      const target = this.edges(node.id, 'out')[0]?.target;
      if (target === undefined) this.report({ severity: 'warning', code: 'unconnected', nodeId: node.id, message: 'this source is not connected to anything' });
      else entries.add(target);
      if (!config) continue;
      const fragment = def.compileSource(config);
      for (const [key, value] of Object.entries(fragment.schedule)) {
        if (schedule && key in schedule) {
          this.report({ severity: 'error', code: 'multiple-sources', nodeId: node.id, message: `another source already sets schedule.${key}; a flow has one trigger of each kind — split it into two flows` });
          continue;
        }
        schedule = { ...schedule, [key]: value };
      }
      sources.push({ id: node.id, kind: node.kind, ...(node.label ? { label: node.label } : {}), ...(node.position ? { position: node.position } : {}), ...fragment.meta });
    }
    if (entries.size > 1) {
      for (const r of this.nodes.values()) {
        if (isSourceDefinition(r.def)) {
          this.report({ severity: 'error', code: 'multiple-sources', nodeId: r.node.id, message: `the sources start the flow at different nodes (${[...entries].join(', ')}); all sources must feed the same first node` });
        }
      }
    }
    return { schedule, sources, entry: [...entries][0] };
  }

  private checkConnectivity(): void {
    for (const { node, ports } of this.nodes.values()) {
      for (const port of ports.outputs) {
        if ((port.role === 'list' || port.role === 'branches') && !port.optional && this.edges(node.id, port.id).length === 0) {
          this.report({ severity: 'error', code: 'unconnected', nodeId: node.id, path: ['ports', port.id], message: `connect the "${port.label}" output: it holds the steps this node runs` });
        }
      }
    }
    const reachable = new Set<string>();
    const stack = [...this.nodes.values()].filter((r) => isSourceDefinition(r.def)).map((r) => r.node.id);
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (reachable.has(id)) continue;
      reachable.add(id);
      stack.push(...this.successors(id));
    }
    for (const { node, def } of this.nodes.values()) {
      if (isSourceDefinition(def)) continue;
      const connected = this.incoming.has(node.id) || this.successors(node.id).length > 0;
      if (!connected && this.nodes.size > 1) {
        this.report({ severity: 'warning', code: 'unconnected', nodeId: node.id, message: 'this node is not connected to anything' });
      }
      if (def.category === 'target' && !reachable.has(node.id)) {
        this.report({ severity: 'warning', code: 'no-source', nodeId: node.id, message: 'no source leads to this target, so it never receives an event' });
      }
    }
  }

  private newScope(nested: boolean): Scope {
    const scope = { key: this.scopes.length, nested, order: [] };
    this.scopes.push(scope);
    return scope;
  }

  /**
   * Assigns nodes to task lists in emission order: follow each chain (the `next` port, or a
   * filter's/switch's first case), descend into nested lists as they appear, and queue the
   * other cases after the chain ends — the layout a person writes a switch in by hand.
   */
  private claim(scope: Scope, entries: string[]): void {
    const stack = [...entries].reverse();
    while (stack.length > 0) {
      let current: string | undefined = stack.pop();
      const pending: string[] = [];
      while (current !== undefined && !this.scopeOf.has(current)) {
        const id: string = current;
        this.scopeOf.set(id, scope.key);
        scope.order.push(id);
        let next: string | undefined;
        const jumps: string[] = [];
        for (const port of this.nodes.get(id)!.ports.outputs) {
          const edges = this.edges(id, port.id);
          if (port.role === 'list') {
            const body = this.newScope(true);
            this.nestedScope.set(`${id}\0${port.id}`, body.key);
            if (edges[0]) this.claim(body, [edges[0].target]);
          } else if (port.role === 'branches') {
            for (const edge of edges) {
              const branch = this.newScope(true);
              this.nestedScope.set(edge.id, branch.key);
              this.claim(branch, [edge.target]);
            }
          } else if (port.role === 'next') {
            next = edges[0]?.target;
          } else if (edges[0]) {
            jumps.push(edges[0].target);
          }
        }
        if (next === undefined) next = jumps.shift();
        pending.push(...jumps);
        current = next;
      }
      stack.push(...pending.reverse());
    }
  }

  private stop(scope: Scope): string {
    return scope.nested ? 'exit' : 'end';
  }

  private directive(edge: GraphEdge | undefined, scope: Scope): string {
    if (!edge) return this.stop(scope);
    if (this.scopeOf.get(edge.target) !== scope.key) {
      this.crossScope(edge);
      return this.stop(scope);
    }
    return edge.target;
  }

  private crossScope(edge: GraphEdge): void {
    this.report({
      severity: 'error',
      code: 'cross-scope',
      edgeId: edge.id,
      nodeId: edge.source,
      message: `${edge.source} → ${edge.target} leaves the block (body, branch, try or catch) it is in; a block's path may only continue inside it`,
    });
  }

  private buildList(scope: Scope): DslTaskList {
    return scope.order.map((id, index) => ({ [id]: this.buildTask(id, scope, index) }));
  }

  private buildTask(id: string, scope: Scope, index: number): DslTask {
    const resolved = this.nodes.get(id)!;
    this.built.add(id);
    const nestedLists = new Set<unknown>();
    const ctx: CompileContext = {
      list: (port) => {
        const key = this.nestedScope.get(`${id}\0${port}`);
        const list = key === undefined ? [] : this.buildList(this.scopes[key]!);
        nestedLists.add(list);
        return list;
      },
      branches: (port) => {
        const branches = this.edges(id, port).map((edge) => {
          const list = this.buildList(this.scopes[this.nestedScope.get(edge.id)!]!);
          if (list.length === 1 && edge.label === undefined) return list[0]!;
          const branch: BranchMeta = { branch: true };
          return { [edge.label ?? `${edge.target}-branch`]: { do: list, metadata: { [META_KEY]: branch } } };
        });
        nestedLists.add(branches);
        return branches;
      },
      jump: (port) => this.directive(this.edges(id, port)[0], scope),
      stop: () => this.stop(scope),
    };
    const output = this.compileNode(resolved, ctx);
    this.checkExpressions(id, output.task, nestedLists);
    this.compiledTasks.set(id, { task: output.task, nested: nestedLists });

    const { then: keptThen, metadata: taskMetadata, ...task } = output.task;
    const nextPort = resolved.ports.outputs.find((p) => p.role === 'next');
    const nextEdge = nextPort ? this.edges(id, nextPort.id)[0] : undefined;
    let then: unknown = keptThen;
    if (nextEdge) {
      then = this.scopeOf.get(nextEdge.target) !== scope.key ? (this.crossScope(nextEdge), this.stop(scope)) : scope.order[index + 1] === nextEdge.target ? undefined : nextEdge.target;
    } else if (then === undefined && nextPort && index < scope.order.length - 1) {
      then = this.stop(scope);
    }
    const { node } = resolved;
    const meta: TaskMeta = {
      kind: node.kind,
      ...(node.label ? { label: node.label } : {}),
      ...(node.position ? { position: node.position } : {}),
      ...output.meta,
    };
    return {
      ...task,
      ...(then !== undefined ? { then } : {}),
      metadata: { ...(isObject(taskMetadata) ? taskMetadata : {}), [META_KEY]: meta },
    };
  }

  private compileNode({ node, def, config }: ResolvedNode, ctx: CompileContext): TaskOutput {
    if (config !== undefined && !isSourceDefinition(def)) {
      try {
        return def.compile(config, ctx);
      } catch (error) {
        this.report({ severity: 'error', code: 'invalid-expression', nodeId: node.id, message: error instanceof Error ? error.message : String(error) });
      }
    }
    // The document stays whole while a node is being fixed; running it fails at this node.
    return { task: { raise: { error: { type: invalidNodeError, status: 500, title: `node ${node.id} is not configured correctly` } } } };
  }

  /** Shapes from the catalog schemas of the sources' event types; silent when none is known. */
  private inferTypes(): Record<string, FieldInfo[]> {
    const schemas = this.options.schemas ?? {};
    const nodes: ShapeNode[] = [];
    for (const { node, def, config, ports } of this.nodes.values()) {
      if (isSourceDefinition(def)) {
        const type = config?.eventType;
        const schema = typeof type === 'string' ? schemas[type] : undefined;
        nodes.push({ id: node.id, task: undefined, nested: new Set(), outputs: ports.outputs, ...(schema !== undefined ? { produces: cloudEventShape(shapeFromSchema(schema)) } : {}) });
        continue;
      }
      const compiled = this.compiledTasks.get(node.id);
      // A try block runs on the task's input; a loop body and a catch block see other data.
      nodes.push({ id: node.id, task: compiled?.task, nested: compiled?.nested ?? new Set(), outputs: ports.outputs, listGetsInput: (port) => node.kind === 'try-catch' && port === 'try' });
    }
    if (!nodes.some((n) => n.produces)) return {};
    const { inputs, diagnostics } = inferShapes(nodes, this.graph.edges);
    for (const d of diagnostics) this.report(d);
    return Object.fromEntries([...inputs].map(([id, shape]) => [id, fieldsOf(shape)]));
  }

  private checkExpressions(id: string, task: DslTask, skip: Set<unknown>): void {
    const visit = (value: unknown, path: (string | number)[]): void => {
      if (skip.has(value)) return;
      if (typeof value === 'string') {
        const inner = /^\s*\$\{([\s\S]*)\}\s*$/.exec(value);
        const problem = inner ? jqSyntaxError(inner[1]!) : undefined;
        if (problem) this.report({ severity: 'error', code: 'invalid-expression', nodeId: id, path: ['task', ...path], message: `jq: ${problem} in ${value}` });
      } else if (Array.isArray(value)) {
        value.forEach((item, i) => visit(item, [...path, i]));
      } else if (isObject(value)) {
        for (const [key, item] of Object.entries(value)) if (key !== 'metadata') visit(item, [...path, key]);
      }
    };
    visit(task, []);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** compile, then the DSL 1.0 schema check of the result (asynchronous: it loads the SDK). */
export async function compileAndValidate(input: unknown, options: CompileOptions = {}): Promise<CompileResult> {
  const result = compile(input, options);
  if (!result.document) return result;
  const nodeIds = new Set(flowGraphSchema.parse(input).nodes.map((node) => node.id));
  return { ...result, diagnostics: [...result.diagnostics, ...(await validateDocument(result.document, nodeIds))] };
}
