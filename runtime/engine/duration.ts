/** DSL durations: an object of days/hours/minutes/seconds/milliseconds, or an ISO 8601 duration. */
import { WorkflowError } from './errors.ts';

const UNIT_MS = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000, milliseconds: 1 } as const;
const ISO = /^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export type DurationDefinition = string | Partial<Record<keyof typeof UNIT_MS, number>>;

/** Milliseconds of a duration; years and months count as 365 and 30 days (ISO gives them no fixed length). */
export function durationMs(value: unknown, where = ''): number {
  if (typeof value === 'string') {
    const m = ISO.exec(value);
    if (!m) throw WorkflowError.of('configuration', `"${value}" is not an ISO 8601 duration (e.g. PT30S, P1DT2H)`, where);
    const [, y, mo, w, d, h, mi, s] = m.map((part) => (part === undefined ? 0 : Number(part)));
    return Math.round(((((y! * 365 + mo! * 30 + w! * 7 + d!) * 24 + h!) * 60 + mi!) * 60 + s!) * 1000);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    let total = 0;
    for (const [unit, amount] of Object.entries(value)) {
      const factor = UNIT_MS[unit as keyof typeof UNIT_MS];
      if (factor === undefined || typeof amount !== 'number') {
        throw WorkflowError.of('configuration', `duration field "${unit}" is not one of days, hours, minutes, seconds, milliseconds`, where);
      }
      total += amount * factor;
    }
    return total;
  }
  throw WorkflowError.of('configuration', 'a duration is an ISO 8601 string or an object of days/hours/minutes/seconds/milliseconds', where);
}
