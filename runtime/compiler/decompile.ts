/**
 * DSL 1.0 document → graph. A task Meshflow wrote (it carries `metadata.meshflow.kind`) turns
 * back into its node kind, provided re-compiling the recovered config reproduces the task; so a
 * hand edit in the YAML either still fits the kind or the node falls back to the generic node
 * of its task type, and nothing in the document is lost either way. Documents from elsewhere
 * become generic nodes, laid out automatically.
 *
 * Structure is found by compiling the recovered config with a probe context whose nested
 * lists and jump targets are sentinels, then reading the real task at the sentinels' places.
 */
import { z } from 'zod';
import { genericKind, getNodeDefinition, nodeDefinitions, taskTypeOf } from '../nodes/index.ts';
import {
  isSourceDefinition,
  type CompileContext,
  type DslTask,
  type FlowGraph,
  type GraphEdge,
  type GraphNode,
  type NodeDefinition,
  type Ports,
  type Position,
  type TaskNodeDefinition,
} from '../nodes/types.ts';
import type { Diagnostic } from './diagnostics.ts';
import { autoLayout, placeMissing } from './layout.ts';
import { DSL_VERSION } from './compile.ts';
import { ignoredTaskMeta, META_KEY, type IgnoredMeta } from './metadata.ts';

export interface DecompileResult {
  graph: FlowGraph;
  diagnostics: Diagnostic[];
}

export interface DecompileOptions {
  /** Lay out nodes that have no position (default true). */
  layout?: boolean;
}

const taskItem = z.record(z.string(), z.record(z.string(), z.unknown())).refine((item) => Object.keys(item).length === 1, 'each task list item names exactly one task');

/** The boundary check: enough of a DSL 1.0 document to build a graph; the SDK validates the rest. */
const documentSchema = z.looseObject({
  document: z.looseObject({
    dsl: z.string(),
    namespace: z.string().min(1),
    name: z.string().min(1),
    version: z.string().min(1),
    title: z.string().optional(),
    summary: z.string().optional(),
    tags: z.record(z.string(), z.unknown()).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
  schedule: z.record(z.string(), z.unknown()).optional(),
  do: z.array(taskItem),
});

const LIST = '\0list';
const BRANCHES = '\0branches';
const JUMP = '\0jump:';
const STOP = '\0stop';

interface Bindings {
  lists: Map<string, unknown>;
  branches: Map<string, unknown>;
  jumps: Map<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const probe: CompileContext = {
  list: (port) => [{ [LIST]: port }] as never,
  branches: (port) => [{ [BRANCHES]: port }] as never,
  jump: (port) => `${JUMP}${port}`,
  stop: () => STOP,
};

function sentinel(value: unknown, key: string): string | undefined {
  if (!Array.isArray(value) || value.length !== 1 || !isObject(value[0])) return undefined;
  const port = value[0][key];
  return typeof port === 'string' ? port : undefined;
}

/** Whether `actual` is what `expected` (a probe compile) describes, binding the sentinels. */
function matches(expected: unknown, actual: unknown, bindings: Bindings): boolean {
  const listPort = sentinel(expected, LIST);
  if (listPort !== undefined) return Array.isArray(actual) && (bindings.lists.set(listPort, actual), true);
  const branchPort = sentinel(expected, BRANCHES);
  if (branchPort !== undefined) return Array.isArray(actual) && (bindings.branches.set(branchPort, actual), true);
  if (typeof expected === 'string' && expected.startsWith(JUMP)) return typeof actual === 'string' && (bindings.jumps.set(expected.slice(JUMP.length), actual), true);
  if (expected === STOP) return actual === 'end' || actual === 'exit';
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((item, i) => matches(item, actual[i], bindings));
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return false;
    // A kind may leave out a nested list that is empty (the schema wants lists non-empty): absent reads as [].
    const keys = Object.keys(expected).filter((k) => expected[k] !== undefined && !(actual[k] === undefined && sentinel(expected[k], LIST) !== undefined));
    const actualKeys = Object.keys(actual).filter((k) => actual[k] !== undefined);
    return keys.length === actualKeys.length && keys.every((k) => k in actual && matches(expected[k], actual[k], bindings));
  }
  return Object.is(expected, actual);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return matches(a, b, { lists: new Map(), branches: new Map(), jumps: new Map() });
}

interface Recognised {
  def: TaskNodeDefinition;
  config: Record<string, unknown>;
  /** What compiling the config writes under `metadata.meshflow` besides kind, label and position. */
  meta: Record<string, unknown>;
  ports: Ports;
  bindings: Bindings;
}

function recognise(def: NodeDefinition, task: DslTask, meta: Record<string, unknown>): Recognised | undefined {
  if (isSourceDefinition(def)) return undefined;
  try {
    const raw = def.decompile(task, meta);
    if (raw === undefined) return undefined;
    const parsed = def.schema.safeParse(raw);
    if (!parsed.success) return undefined;
    const config = parsed.data as Record<string, unknown>;
    const bindings: Bindings = { lists: new Map(), branches: new Map(), jumps: new Map() };
    const output = def.compile(config, probe);
    if (!matches(output.task, task, bindings)) return undefined;
    return { def, config, meta: output.meta ?? {}, ports: def.ports(config), bindings };
  } catch {
    // A kind's reader may trip over a hand-edited task; the generic node takes it then.
    return undefined;
  }
}

/**
 * The node a task was compiled from, with its configuration, when its `metadata.meshflow.kind`
 * names a kind and the task is exactly what that kind compiles the configuration to; undefined
 * for tasks written or edited by hand, whose meaning is the task itself.
 */
export function nodeOfTask(task: DslTask): { def: TaskNodeDefinition; config: Record<string, unknown> } | undefined {
  const { then: _then, metadata, ...body } = task;
  const meta = isObject(metadata) && isObject(metadata[META_KEY]) ? metadata[META_KEY] : undefined;
  const def = typeof meta?.kind === 'string' ? getNodeDefinition(meta.kind) : undefined;
  if (!def || def.generic || isSourceDefinition(def)) return undefined;
  const recognised = recognise(def, body, meta!);
  return recognised && { def, config: recognised.config };
}

/**
 * The first other kind that reads the task without any metadata, same category first; the
 * generic node of the task's type is the caller's last resort.
 */
function recogniseWithoutMeta(was: NodeDefinition, task: DslTask): Recognised | undefined {
  const candidates = nodeDefinitions.filter((def) => def.kind !== was.kind && !def.generic && !isSourceDefinition(def));
  const ordered = [...candidates.filter((def) => def.category === was.category), ...candidates.filter((def) => def.category !== was.category)];
  for (const def of ordered) {
    const found = recognise(def, task, {});
    if (found) return found;
  }
  return undefined;
}

function readPosition(meta: Record<string, unknown> | undefined): Position | undefined {
  const position = meta?.position;
  return isObject(position) && typeof position.x === 'number' && typeof position.y === 'number' ? { x: position.x, y: position.y } : undefined;
}

class DocumentDecompiler {
  readonly nodes: GraphNode[] = [];
  readonly edges: GraphEdge[] = [];
  readonly diagnostics: Diagnostic[] = [];
  private readonly usedIds = new Set<string>();

  allocateId(name: string): string {
    let id = name;
    for (let n = 2; this.usedIds.has(id); n++) id = `${name}-${n}`;
    this.usedIds.add(id);
    return id;
  }

  addEdge(source: string, port: string, target: string, label?: string): void {
    this.edges.push({ id: `${source}:${port}->${target}`, source, ...(port === 'out' ? {} : { sourcePort: port }), target, ...(label !== undefined ? { label } : {}) });
  }

  /** Decompiles a task list; returns its node ids in order (the first is where the list starts). */
  list(items: unknown[], path: (string | number)[]): string[] {
    const entries = items.flatMap((item, index) => {
      const [name, task] = isObject(item) ? (Object.entries(item)[0] ?? []) : [];
      if (name === undefined || !isObject(task)) {
        this.diagnostics.push({ severity: 'error', code: 'invalid-document', path: [...path, index], message: 'a task list item must name exactly one task' });
        return [];
      }
      return [{ name, task, id: this.allocateId(name), index }];
    });
    const idByName = new Map(entries.map((e) => [e.name, e.id]));
    entries.forEach((entry, i) => {
      const following = entries[i + 1]?.id;
      const resolve = (directive: unknown): string | undefined => {
        if (directive === undefined || directive === 'continue') return following;
        if (directive === 'end' || directive === 'exit' || typeof directive !== 'string') return undefined;
        const target = idByName.get(directive);
        if (target === undefined) this.diagnostics.push({ severity: 'error', code: 'invalid-document', nodeId: entry.id, path: [...path, entry.index, entry.name, 'then'], message: `"then: ${directive}" names no task of this list` });
        return target;
      };
      this.task(entry.id, entry.task, resolve, [...path, entry.index, entry.name]);
    });
    return entries.map((e) => e.id);
  }

  private task(id: string, task: DslTask, resolve: (directive: unknown) => string | undefined, path: (string | number)[]): void {
    const { then, metadata, ...body } = task;
    const meta = isObject(metadata) && isObject(metadata[META_KEY]) ? metadata[META_KEY] : undefined;
    const userMetadata = isObject(metadata) ? Object.fromEntries(Object.entries(metadata).filter(([key]) => key !== META_KEY)) : {};
    const hasUserMetadata = Object.keys(userMetadata).length > 0;

    const metaDef = typeof meta?.kind === 'string' && !hasUserMetadata ? getNodeDefinition(meta.kind) : undefined;
    // Generic kinds are re-derived from the task itself below, `then` included.
    let recognised = metaDef && !metaDef.generic ? recognise(metaDef, body, meta!) : undefined;
    if (!recognised && metaDef && !metaDef.generic) {
      // The task was edited (in the YAML panel, or by hand) into something its kind does not
      // write. The task is what runs, so the node becomes whatever kind reads it as it is now
      // (a data pattern whose `when:` was edited is now a jq predicate), and says so.
      recognised = recogniseWithoutMeta(metaDef, body);
      this.changedKind(id, path, metaDef, recognised?.def);
    }
    let keptThen: unknown;
    if (!recognised) {
      const type = taskTypeOf(body);
      const def = type ? getNodeDefinition(genericKind(type)) : undefined;
      // The generic node keeps `then: end|exit` itself: inside a block the two differ, and no edge says which.
      keptThen = then === 'end' || then === 'exit' ? then : undefined;
      const raw = { ...body, ...(hasUserMetadata ? { metadata: userMetadata } : {}), ...(keptThen ? { then: keptThen } : {}) };
      recognised = def ? recognise(def, raw, {}) : undefined;
      if (!recognised) {
        this.diagnostics.push({ severity: 'error', code: 'invalid-document', nodeId: id, path, message: `"${id}" is not a DSL 1.0 task (expected one of call, do, emit, for, fork, listen, raise, run, set, switch, try, wait)` });
        return;
      }
    }
    const ignored = ignoredTaskMeta(task);
    for (const item of ignored) {
      this.diagnostics.push({ severity: 'warning', code: 'metadata-ignored', nodeId: id, path: [...path, 'metadata', META_KEY, ...item.path], message: `"${id}": ${item.message}` });
    }
    // A node that changed kind says so already; one that kept it says what of its metadata the canvas cannot keep.
    if (meta && !(metaDef && !metaDef.generic && recognised.def !== metaDef)) this.unkept(id, path, recognised, meta, ignored);
    const position = readPosition(meta);
    this.nodes.push({
      id,
      kind: recognised.def.kind,
      ...(typeof meta?.label === 'string' ? { label: meta.label } : {}),
      ...(position ? { position } : {}),
      config: recognised.config,
    });

    for (const port of recognised.ports.outputs) {
      if (port.role === 'list') {
        const items = recognised.bindings.lists.get(port.id);
        const first = Array.isArray(items) ? this.list(items, [...path, port.id])[0] : undefined;
        if (first !== undefined) this.addEdge(id, port.id, first);
      } else if (port.role === 'branches') {
        const items = recognised.bindings.branches.get(port.id);
        if (Array.isArray(items)) items.forEach((item, i) => this.branch(id, port.id, item, [...path, port.id, i]));
      } else if (port.role === 'jump') {
        const target = resolve(recognised.bindings.jumps.get(port.id) ?? 'end');
        if (target !== undefined) this.addEdge(id, port.id, target);
      } else if (keptThen === undefined) {
        const target = resolve(then);
        if (target !== undefined) this.addEdge(id, port.id, target);
      }
    }
  }

  /**
   * The warnings on `metadata.meshflow` the node has no setting for (a hand-written delivery
   * option, say): the canvas, and what it saves, leaves it out, so the YAML would say more
   * than the flow does. Fields the runtime does not read are reported as such instead.
   */
  private unkept(id: string, path: (string | number)[], recognised: Recognised, meta: Record<string, unknown>, ignored: IgnoredMeta[]): void {
    const reported = new Set(ignored.map((item) => item.path.join('.')));
    const warn = (at: string[]) => {
      if (reported.has(at.join('.'))) return;
      this.diagnostics.push({
        severity: 'warning',
        code: 'metadata-ignored',
        nodeId: id,
        path: [...path, 'metadata', META_KEY, ...at],
        message: `"${id}": metadata.meshflow.${at.join('.')} is not kept: a ${recognised.def.title} node has no setting for it, so the canvas and what it saves leave it out`,
      });
    };
    for (const [key, value] of Object.entries(meta)) {
      if (key === 'kind' || key === 'label' || key === 'position' || reported.has(key) || deepEqual(recognised.meta[key], value)) continue;
      const kept = recognised.meta[key] ?? {};
      if (isObject(value) && isObject(kept)) {
        for (const [field, item] of Object.entries(value)) if (!deepEqual(kept[field], item)) warn([key, field]);
      } else warn([key]);
    }
  }

  /** The warning on a node whose YAML no longer matches the kind recorded in its metadata. */
  private changedKind(id: string, path: (string | number)[], was: NodeDefinition, now: NodeDefinition | undefined): void {
    const becomes = now ? `is now a ${now.title} node` : 'is now a plain DSL task node';
    this.diagnostics.push({
      severity: 'warning',
      code: 'kind-changed',
      nodeId: id,
      path,
      message: `"${id}" was a ${was.title}, but its task was edited into something a ${was.title} does not write, so it ${becomes} showing the task as it runs`,
    });
  }

  /** A fork branch: one task, or the `do` wrapper the compiler puts around a longer chain. */
  private branch(forkId: string, port: string, item: unknown, path: (string | number)[]): void {
    const [name, task] = isObject(item) ? (Object.entries(item)[0] ?? []) : [];
    const wrapper = isObject(task) && Array.isArray(task.do) && isObject(task.metadata) && isObject(task.metadata[META_KEY]) && task.metadata[META_KEY].branch === true;
    if (name === undefined || !wrapper) {
      const first = this.list([item], path)[0];
      if (first !== undefined) this.addEdge(forkId, port, first);
      return;
    }
    const ids = this.list(task.do as unknown[], [...path, name, 'do']);
    if (ids[0] === undefined) return;
    // The compiler names a wrapper `<first>-branch` and leaves single tasks bare; a label keeps anything else.
    const label = ids.length > 1 && name === `${ids[0]}-branch` ? undefined : name;
    this.addEdge(forkId, port, ids[0], label);
  }

  sources(schedule: Record<string, unknown>, meta: unknown): void {
    const listed = isObject(meta) && Array.isArray(meta.sources) ? meta.sources.filter(isObject) : [];
    const recovered = listed.flatMap((source) => {
      const def = typeof source.kind === 'string' ? getNodeDefinition(source.kind) : undefined;
      if (!def || !isSourceDefinition(def) || typeof source.id !== 'string') return [];
      try {
        const parsed = def.schema.safeParse(def.decompileSource(schedule, source));
        if (!parsed.success) return [];
        const fragment = def.compileSource(parsed.data).schedule;
        if (!Object.entries(fragment).every(([key, value]) => deepEqual(value, schedule[key]))) return [];
        return [{ source, def, config: parsed.data as Record<string, unknown>, keys: Object.keys(fragment) }];
      } catch {
        return [];
      }
    });
    const covered = new Set(recovered.flatMap((r) => r.keys));
    const exact = recovered.length === listed.length && Object.keys(schedule).every((key) => covered.has(key));
    if (exact && recovered.length > 0) {
      for (const { source, def, config } of recovered) {
        const position = readPosition(source);
        this.nodes.push({
          id: this.allocateId(source.id as string),
          kind: def.kind,
          ...(typeof source.label === 'string' ? { label: source.label } : {}),
          ...(position ? { position } : {}),
          config,
        });
      }
      return;
    }
    const id = this.allocateId('schedule');
    this.nodes.push({ id, kind: 'dsl-schedule', config: { schedule } });
    // The document's metadata names sources its `schedule` no longer fits: say what they became.
    const named = listed.flatMap((source) => {
      const def = typeof source.kind === 'string' ? getNodeDefinition(source.kind) : undefined;
      return def ? [def.title] : [];
    });
    if (named.length > 0) {
      this.diagnostics.push({
        severity: 'warning',
        code: 'kind-changed',
        nodeId: id,
        path: ['schedule'],
        message: `the schedule was edited into something ${named.join(' and ')} ${named.length === 1 ? 'does' : 'do'} not write, so it is now a plain DSL schedule node showing the schedule as it runs`,
      });
    }
  }
}

export function decompile(input: unknown, options: DecompileOptions = {}): DecompileResult {
  const parsed = documentSchema.safeParse(input);
  if (!parsed.success) {
    return {
      graph: { document: { namespace: 'default', name: 'flow', version: '0.1.0' }, nodes: [], edges: [] },
      diagnostics: parsed.error.issues.map((issue) => ({
        severity: 'error',
        code: 'invalid-document',
        message: issue.message,
        path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      })),
    };
  }
  const { document, schedule, do: tasks, ...workflow } = parsed.data;
  const { dsl, namespace, name, version, title, summary, tags, metadata } = document;
  const diagnostics: Diagnostic[] = [];
  // Any 1.0.x release is kept as declared; another one is written back as DSL_VERSION.
  const release = /^1\.0\.\d+$/.test(dsl) ? dsl : undefined;
  if (release === undefined) diagnostics.push({ severity: 'warning', code: 'invalid-document', path: ['document', 'dsl'], message: `document.dsl is "${dsl}"; Meshflow reads DSL 1.0.x and writes it as ${DSL_VERSION}` });

  const decompiler = new DocumentDecompiler();
  // Sources first: their ids are claimed before task names, as the compiler lists them.
  if (schedule) decompiler.sources(schedule, metadata?.[META_KEY]);
  const sourceIds = decompiler.nodes.map((n) => n.id);
  const first = decompiler.list(tasks, ['do'])[0];
  if (first !== undefined) for (const id of sourceIds) decompiler.addEdge(id, 'out', first);

  const userMetadata = Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => key !== META_KEY));
  let graph: FlowGraph = {
    document: {
      ...(release !== undefined && release !== DSL_VERSION ? { dsl: release } : {}),
      namespace,
      name,
      version,
      ...(title !== undefined ? { title } : {}),
      ...(summary !== undefined ? { summary } : {}),
      ...(tags !== undefined ? { tags } : {}),
      ...(Object.keys(userMetadata).length > 0 ? { metadata: userMetadata } : {}),
    },
    ...(Object.keys(workflow).length > 0 ? { workflow } : {}),
    nodes: decompiler.nodes,
    edges: decompiler.edges,
  };
  if (options.layout !== false && graph.nodes.some((n) => !n.position)) {
    graph = graph.nodes.every((n) => !n.position) ? autoLayout(graph) : placeMissing(graph);
  }
  return { graph, diagnostics: [...diagnostics, ...decompiler.diagnostics] };
}
