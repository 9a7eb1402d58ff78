import type { TaskOutcome, TaskRun } from './host.ts';

type SwitchCase = { when?: string; then?: string };

/** A case as read once per definition: its expression, where it sits, where it goes. */
interface PlannedCase {
  when: string;
  field: string;
  then: string;
}

interface PlannedSwitch {
  cases: PlannedCase[];
  /** The first case without `when`. */
  fallback: string | undefined;
}

const plans = new WeakMap<object, PlannedSwitch>();

function planOf(cases: Record<string, SwitchCase>[]): PlannedSwitch {
  let plan = plans.get(cases);
  if (!plan) {
    plan = { cases: [], fallback: undefined };
    for (const [index, item] of cases.entries()) {
      const [name, c] = Object.entries(item)[0]!;
      if (c.when === undefined) plan.fallback ??= c.then ?? 'continue';
      // Cases after the default can still match first: order is kept, the default only applies when none does.
      else plan.cases.push({ when: c.when, field: `switch/${index}/${name}/when`, then: c.then ?? 'continue' });
    }
    plans.set(cases, plan);
  }
  return plan;
}

/**
 * `switch`: the first case whose `when` holds decides where to go; a case without `when`
 * is the default. With no match and no default, the task's own `then` applies. The input
 * passes through unchanged.
 */
export function switchTask(run: TaskRun): TaskOutcome | Promise<TaskOutcome> {
  return decide(run, planOf(run.def.switch as Record<string, SwitchCase>[]), 0);
}

/** Tries the cases from `from` on; a case that needs jq continues once it has answered. */
function decide(run: TaskRun, { cases, fallback }: PlannedSwitch, from: number): TaskOutcome | Promise<TaskOutcome> {
  const evaluator = run.host.evaluator;
  for (let i = from; i < cases.length; i++) {
    const c = cases[i]!;
    const holds = evaluator.test(c.when, run.input, run.vars, run.site(c.field));
    if (holds instanceof Promise) return holds.then((h) => (h ? { kind: 'flow', directive: c.then, output: run.input } : decide(run, { cases, fallback }, i + 1)));
    if (holds) return { kind: 'flow', directive: c.then, output: run.input };
  }
  return fallback === undefined ? { kind: 'completed', output: run.input } : { kind: 'flow', directive: fallback, output: run.input };
}
