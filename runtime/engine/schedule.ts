/**
 * `schedule`: when the worker should start the next instance of a workflow. `every` counts
 * from the previous start, `after` from the previous completion, `cron` is a five-field
 * UTC cron expression; `on` is event-driven (see `scheduleEvents`).
 */
import { durationMs } from './duration.ts';
import { WorkflowError } from './errors.ts';
import type { Json, JsonObject } from './types.ts';

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

const MACROS: Record<string, string> = { '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *' };

function field(source: string, spec: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  for (const part of source.split(',')) {
    const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw WorkflowError.of('configuration', `cron ${spec.name} "${part}" is not a number, range, list or step`, '/schedule/cron');
    const from = m[1] === '*' ? spec.min : Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? spec.max : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (from < spec.min || to > spec.max || step < 1) throw WorkflowError.of('configuration', `cron ${spec.name} "${part}" is outside ${spec.min}-${spec.max}`, '/schedule/cron');
    for (let v = from; v <= to; v += step) values.add(spec.name === 'day of week' && v === 7 ? 0 : v);
  }
  return values;
}

/** The first minute strictly after `after` (epoch ms) that the cron expression selects. */
export function nextCron(expression: string, after: number): number {
  const parts = (MACROS[expression.trim()] ?? expression).trim().split(/\s+/);
  if (parts.length !== 5) throw WorkflowError.of('configuration', `cron "${expression}" must have five fields (minute hour day month weekday)`, '/schedule/cron');
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => field(p, FIELDS[i]!)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const anyDay = parts[2] === '*';
  const anyWeekday = parts[4] === '*';
  const t = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  // Four years of minutes covers every valid expression (29 February included).
  for (let i = 0; i < 4 * 366 * 24 * 60; i++) {
    const dayOk = anyDay && anyWeekday ? true : anyDay ? weekdays.has(t.getUTCDay()) : anyWeekday ? days.has(t.getUTCDate()) : days.has(t.getUTCDate()) || weekdays.has(t.getUTCDay());
    if (!months.has(t.getUTCMonth() + 1) || !dayOk) {
      t.setUTCHours(0, 0, 0, 0);
      t.setUTCDate(t.getUTCDate() + 1);
      continue;
    }
    if (!hours.has(t.getUTCHours())) {
      t.setUTCMinutes(0, 0, 0);
      t.setUTCHours(t.getUTCHours() + 1);
      continue;
    }
    if (minutes.has(t.getUTCMinutes())) return t.getTime();
    t.setUTCMinutes(t.getUTCMinutes() + 1);
  }
  throw WorkflowError.of('configuration', `cron "${expression}" never fires`, '/schedule/cron');
}

/**
 * When to start the next instance (epoch ms), given when the previous one started and, if it
 * did, completed; undefined for event-driven or unscheduled workflows.
 */
export function nextScheduledRun(schedule: JsonObject | undefined, previous: { startedAt: number; completedAt?: number }): number | undefined {
  if (!schedule) return undefined;
  if (schedule.every !== undefined) return previous.startedAt + durationMs(schedule.every, '/schedule/every');
  if (typeof schedule.cron === 'string') return nextCron(schedule.cron, previous.startedAt);
  if (schedule.after !== undefined) return previous.completedAt === undefined ? undefined : previous.completedAt + durationMs(schedule.after, '/schedule/after');
  return undefined;
}

/** The `schedule.on` event consumption strategy, for the worker to subscribe with; the events become the input. */
export function scheduleEvents(schedule: JsonObject | undefined): Json | undefined {
  return schedule?.on;
}
