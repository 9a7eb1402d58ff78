/**
 * Generic nodes, one per DSL task type, for documents Meshflow did not write: the node holds
 * the task verbatim, except that nested task lists become empty placeholders (their tasks are
 * nodes of their own, wired to the list's port) and jumps become edges.
 */
import { z } from 'zod';
import { isRecord } from './shared.ts';
import { defineSourceNode, defineTaskNode, nextPort, sourcePorts, type CompileContext, type DslTask, type NodeCategory, type OutputPort } from './types.ts';

export const taskTypes = ['call', 'do', 'emit', 'for', 'fork', 'listen', 'raise', 'run', 'set', 'switch', 'try', 'wait'] as const;
export type TaskType = (typeof taskTypes)[number];

/** Which DSL task a task object is; `for` and `try` also carry `do`, so they are tested first. */
export function taskTypeOf(task: DslTask): TaskType | undefined {
  for (const type of ['for', 'try', 'call', 'fork', 'emit', 'listen', 'raise', 'run', 'set', 'switch', 'wait', 'do'] as const) {
    if (type in task) return type;
  }
  return undefined;
}

/** Where each type keeps its nested task lists: [port, path to the list]. */
const nestedLists: Partial<Record<TaskType, [string, string[]][]>> = {
  do: [['body', ['do']]],
  for: [['body', ['do']]],
  try: [['try', ['try']], ['catch', ['catch', 'do']]],
  listen: [['foreach', ['foreach', 'do']]],
};

const casePort = (name: string) => `case:${name}`;
const directives = new Set(['end', 'exit']);

function getIn(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((at, key) => (isRecord(at) ? at[key] : undefined), value);
}

/** A copy of `value` with the object at `path` given a new `key`; untouched branches are shared. */
function setIn(value: Record<string, unknown>, path: string[], replacement: unknown): Record<string, unknown> {
  const [key, ...rest] = path as [string, ...string[]];
  return { ...value, [key]: rest.length === 0 ? replacement : setIn(value[key] as Record<string, unknown>, rest, replacement) };
}

function switchItems(task: DslTask): [string, Record<string, unknown>][] {
  if (!Array.isArray(task.switch)) return [];
  return task.switch.flatMap((item: unknown) => (isRecord(item) ? Object.entries(item).filter((entry): entry is [string, Record<string, unknown>] => isRecord(entry[1])) : []));
}

function compileGeneric(type: TaskType, task: DslTask, ctx: CompileContext): DslTask {
  let out = task;
  for (const [port, path] of nestedLists[type] ?? []) {
    if (Array.isArray(getIn(out, path))) out = setIn(out, path, ctx.list(port));
  }
  if (type === 'fork' && isRecord(out.fork)) out = { ...out, fork: { ...out.fork, branches: ctx.branches('branches') } };
  if (type === 'switch') {
    out = {
      ...out,
      switch: switchItems(out).map(([name, body]) => ({
        [name]: { ...body, then: typeof body.then === 'string' && directives.has(body.then) ? body.then : ctx.jump(casePort(name)) },
      })),
    };
  }
  return out;
}

function stripGeneric(type: TaskType, task: DslTask): DslTask {
  let out = task;
  for (const [, path] of nestedLists[type] ?? []) {
    if (Array.isArray(getIn(out, path))) out = setIn(out, path, []);
  }
  if (type === 'fork' && isRecord(out.fork)) out = { ...out, fork: { ...out.fork, branches: [] } };
  if (type === 'switch') {
    out = {
      ...out,
      switch: switchItems(out).map(([name, { then, ...body }]) => ({ [name]: typeof then === 'string' && directives.has(then) ? { ...body, then } : body })),
    };
  }
  return out;
}

function portsOf(type: TaskType, task: DslTask): OutputPort[] {
  // Only lists the task has: a port the compile would not emit would lose what is wired to it.
  const lists = (nestedLists[type] ?? []).filter(([, path]) => Array.isArray(getIn(task, path))).map(([id]): OutputPort => ({ id, label: id, role: 'list', optional: true }));
  const branches: OutputPort[] = type === 'fork' ? [{ id: 'branches', label: 'branches', role: 'branches', optional: true }] : [];
  const cases = type === 'switch' ? switchItems(task).map(([name]): OutputPort => ({ id: casePort(name), label: name, role: 'jump' })) : [];
  // A switch with a default case never falls through, so it has nowhere to continue.
  const fallsThrough = type !== 'switch' || switchItems(task).every(([, body]) => body.when !== undefined);
  return [...lists, ...branches, ...cases, ...(fallsThrough ? [nextPort] : [])];
}

/** A minimal valid task of each type, the config a generic node starts from. */
const samples: Record<TaskType, DslTask> = {
  call: { call: 'http', with: { method: 'get', endpoint: 'https://example.com' } },
  do: { do: [] },
  emit: { emit: { event: { with: { source: 'https://example.com', type: 'com.example.event' } } } },
  for: { for: { each: 'item', in: '${ .items }' }, do: [] },
  fork: { fork: { branches: [] } },
  listen: { listen: { to: { one: { with: { type: 'com.example.event' } } } } },
  raise: { raise: { error: { type: 'https://serverlessworkflow.io/spec/1.0.0/errors/runtime', status: 500 } } },
  run: { run: { workflow: { namespace: 'default', name: 'subflow', version: '0.1.0' } } },
  set: { set: { value: '${ . }' } },
  switch: { switch: [{ default: { then: 'end' } }] },
  try: { try: [], catch: {} },
  wait: { wait: 'PT1S' },
};

const looks: Record<TaskType, { category: NodeCategory; icon: string; description: string }> = {
  call: { category: 'target', icon: 'phone-outgoing', description: 'A DSL call task (http, grpc, openapi, asyncapi or a function).' },
  do: { category: 'control', icon: 'list-ordered', description: 'A DSL do task: runs its tasks in order.' },
  emit: { category: 'target', icon: 'send', description: 'A DSL emit task.' },
  for: { category: 'control', icon: 'repeat', description: 'A DSL for task.' },
  fork: { category: 'control', icon: 'git-fork', description: 'A DSL fork task.' },
  listen: { category: 'control', icon: 'ear', description: 'A DSL listen task: waits for events.' },
  raise: { category: 'control', icon: 'triangle-alert', description: 'A DSL raise task.' },
  run: { category: 'target', icon: 'terminal', description: 'A DSL run task (container, script, shell or workflow).' },
  set: { category: 'transform', icon: 'braces', description: 'A DSL set task.' },
  switch: { category: 'control', icon: 'split', description: 'A DSL switch task.' },
  try: { category: 'control', icon: 'shield-alert', description: 'A DSL try task.' },
  wait: { category: 'control', icon: 'hourglass', description: 'A DSL wait task.' },
};

export const genericKind = (type: TaskType) => `dsl-${type}`;

function genericTaskNode(type: TaskType) {
  const schema = z.object({ task: z.record(z.string(), z.unknown()).default(samples[type]) });
  return defineTaskNode({
    kind: genericKind(type),
    title: `DSL ${type}`,
    ...looks[type],
    schema,
    generic: true,
    ports: (config) => ({ input: true, outputs: portsOf(type, config.task) }),
    compile: (config, ctx) => ({ task: compileGeneric(type, config.task, ctx) }),
    decompile: (task) => (taskTypeOf(task) === type ? { task: stripGeneric(type, task) } : undefined),
  });
}

export const genericTaskNodes = taskTypes.map(genericTaskNode);

/** A `schedule` Meshflow did not write, kept verbatim. */
export const genericScheduleNode = defineSourceNode({
  kind: 'dsl-schedule',
  title: 'DSL schedule',
  category: 'source',
  icon: 'calendar-clock',
  description: "A workflow's schedule: a timer (every, cron, after) or the events that start it (on).",
  schema: z.object({ schedule: z.record(z.string(), z.unknown()).default({ every: 'PT1M' }) }),
  generic: true,
  ports: () => sourcePorts,
  compileSource: (config) => ({ schedule: config.schedule }),
  decompileSource: (schedule) => ({ schedule }),
});
