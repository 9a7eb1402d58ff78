/** The task types of DSL 1.0, one handler per file. */
import type { TaskOutcome, TaskRun } from './host.ts';
import type { TaskDefinition } from '../types.ts';
import { callTask } from './call.ts';
import { doTask } from './do.ts';
import { emitTask } from './emit.ts';
import { forTask } from './for.ts';
import { forkTask } from './fork.ts';
import { listenTask } from './listen.ts';
import { raiseTask } from './raise.ts';
import { runTask } from './run.ts';
import { setTask } from './set.ts';
import { switchTask } from './switch.ts';
import { tryTask } from './try.ts';
import { waitTask } from './wait.ts';

export type TaskHandler = (run: TaskRun) => TaskOutcome | Promise<TaskOutcome>;

export const TASK_HANDLERS = {
  call: callTask,
  do: doTask,
  emit: emitTask,
  for: forTask,
  fork: forkTask,
  listen: listenTask,
  raise: raiseTask,
  run: runTask,
  set: setTask,
  switch: switchTask,
  try: tryTask,
  wait: waitTask,
} satisfies Record<string, TaskHandler>;

export type TaskKind = keyof typeof TASK_HANDLERS;

// `for` and `try` also carry a `do`/`catch`, so they are recognised first.
const ORDER: TaskKind[] = ['for', 'try', 'call', 'emit', 'fork', 'listen', 'raise', 'run', 'set', 'switch', 'wait', 'do'];

const kinds = new WeakMap<TaskDefinition, TaskKind | null>();

/** The task's type; definitions do not change while they run, so each is looked at once. */
export function taskKind(def: TaskDefinition): TaskKind | undefined {
  let kind = kinds.get(def);
  if (kind === undefined) {
    kind = ORDER.find((k) => def[k] !== undefined) ?? null;
    kinds.set(def, kind);
  }
  return kind ?? undefined;
}
