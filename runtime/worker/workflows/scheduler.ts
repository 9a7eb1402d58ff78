/**
 * Starts the runs of deployments with a time schedule (`every`, `cron`, `after`). Every worker
 * runs a scheduler; they agree through the database: a scheduled run carries its due time in
 * `run.scheduledFor`, unique per deployment, so workers racing for one due time insert one run
 * and the others' inserts do nothing. The next due time is derived from the last scheduled run
 * (or the deployment's creation), so it survives restarts and needs no state of its own.
 *
 * Missed due times (no worker was up) are not made up one by one: the latest one is started.
 * `every` and `cron` count from the previous due time; `after` from the previous run's end
 * (whatever its outcome), and its first run starts as soon as it is deployed.
 */
import { Deployment } from '../../compiler/deployment.ts';
import type pg from 'pg';
import { nextScheduledRun, WorkflowError, type JsonObject } from '../../engine/index.ts';
import { durationMs } from '../../engine/duration.ts';
import { nextCron } from '../../engine/schedule.ts';
import type { Logger } from '../log.ts';

export interface ScheduledDeployment {
  id: string;
  schedule: JsonObject;
}

/** What the database knows of a deployment's schedule (epoch ms). */
export interface ScheduleHistory {
  createdAt: number;
  last?: { scheduledFor: number; endedAt: number | undefined };
}

/** Cron catch-up looks back this far at most, so a long outage costs a bounded search. */
const CRON_LOOKBACK_MS = 2 * 86_400_000;

/**
 * The schedule's time-based part, checked: undefined for event-driven or unscheduled
 * workflows; throws a WorkflowError naming the field when it is malformed.
 */
export function timeSchedule(input: unknown): JsonObject | undefined {
  const schedule = Deployment.of(input).document.schedule;
  if (typeof schedule !== 'object' || schedule === null || Array.isArray(schedule)) return undefined;
  const s = schedule as JsonObject;
  if (s.every !== undefined) {
    if (durationMs(s.every, '/schedule/every') <= 0) throw WorkflowError.of('configuration', 'schedule.every must be longer than zero', '/schedule/every');
  } else if (s.cron !== undefined) {
    if (typeof s.cron !== 'string') throw WorkflowError.of('configuration', 'schedule.cron must be a cron expression string', '/schedule/cron');
    nextCron(s.cron, 0);
  } else if (s.after !== undefined) durationMs(s.after, '/schedule/after');
  else return undefined;
  return s;
}

/**
 * The due time to start now (the latest one not after `now`), or when to look again: `wakeAt`
 * is the next due time when it is known (undefined while an `after` run has not ended).
 */
export function dueTime(schedule: JsonObject, history: ScheduleHistory, now: number): { due?: number; wakeAt?: number } {
  const { last } = history;
  if (schedule.after !== undefined && schedule.every === undefined && schedule.cron === undefined) {
    if (!last) return { due: history.createdAt };
    if (last.endedAt === undefined) return {};
    const due = nextScheduledRun(schedule, { startedAt: last.scheduledFor, completedAt: last.endedAt })!;
    return due <= now ? { due } : { wakeAt: due };
  }
  const base = last?.scheduledFor ?? history.createdAt;
  const first = nextScheduledRun(schedule, { startedAt: base })!;
  if (first > now) return { wakeAt: first };
  if (schedule.every !== undefined) {
    const every = durationMs(schedule.every);
    return { due: base + Math.floor((now - base) / every) * every };
  }
  let due = first;
  for (let next = nextCron(String(schedule.cron), Math.max(due, now - CRON_LOOKBACK_MS)); next <= now; next = nextCron(String(schedule.cron), next)) due = next;
  return { due };
}

const HISTORY = `
SELECT d.id, (extract(epoch FROM d."createdAt") * 1000)::float8 AS "createdAt",
       (extract(epoch FROM last."scheduledFor") * 1000)::float8 AS "scheduledFor",
       (extract(epoch FROM last."endedAt") * 1000)::float8 AS "endedAt"
  FROM deployment d
  LEFT JOIN LATERAL (
    SELECT r."scheduledFor", r."endedAt" FROM run r
     WHERE r."deploymentId" = d.id AND r."scheduledFor" IS NOT NULL
     ORDER BY r."scheduledFor" DESC LIMIT 1
  ) last ON true
 WHERE d.id = ANY($1::text[]) AND d.status = 'active'`;

/** A run per due time: a second insert for the same (deployment, due time) does nothing. */
const START = `
INSERT INTO run (id, "flowId", "flowVersionId", "deploymentId", status, input, "scheduledFor")
SELECT gen_random_uuid()::text, d."flowId", d."flowVersionId", d.id, 'pending', '{}'::jsonb, to_timestamp($2::float8 / 1000) AT TIME ZONE 'UTC'
  FROM deployment d WHERE d.id = $1 AND d.status = 'active'
ON CONFLICT ("deploymentId", "scheduledFor") DO NOTHING
RETURNING id`;

export class Scheduler {
  private deployments: ScheduledDeployment[] = [];
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private looping: Promise<void> | undefined;

  constructor(
    private readonly options: {
      pool: pg.Pool;
      log: Logger;
      /** The longest sleep between looks (deploys, `after` runs ending). */
      pollMs: number;
      /** Runs were started: the executor can claim them. */
      started: () => void;
    },
  ) {}

  /** The active deployments that have a time schedule; the others stop being scheduled. */
  setDeployments(deployments: ScheduledDeployment[]): void {
    this.deployments = deployments;
    this.wakeUp?.();
  }

  start(): void {
    this.looping = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.looping;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let sleepMs = this.options.pollMs;
      try {
        const wakeAt = await this.tick();
        if (wakeAt !== undefined) sleepMs = Math.max(0, Math.min(sleepMs, wakeAt - Date.now()));
      } catch (error) {
        this.options.log('warn', 'starting scheduled runs failed', { error: (error as Error).message });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /** Starts what is due; returns the earliest next due time known. */
  private async tick(): Promise<number | undefined> {
    const deployments = this.deployments;
    if (deployments.length === 0) return undefined;
    const { pool, log } = this.options;
    const { rows } = await pool.query<{ id: string; createdAt: number; scheduledFor: number | null; endedAt: number | null }>(HISTORY, [deployments.map((d) => d.id)]);
    const schedules = new Map(deployments.map((d) => [d.id, d.schedule]));
    let earliest: number | undefined;
    let started = 0;
    for (const row of rows) {
      const schedule = schedules.get(row.id);
      if (!schedule) continue;
      const history: ScheduleHistory = {
        createdAt: row.createdAt,
        last: row.scheduledFor === null ? undefined : { scheduledFor: row.scheduledFor, endedAt: row.endedAt ?? undefined },
      };
      const now = Date.now();
      let next = dueTime(schedule, history, now);
      if (next.due !== undefined) {
        const { rowCount } = await pool.query(START, [row.id, next.due]);
        if (rowCount) {
          started += rowCount;
          log('info', 'scheduled run started', { deployment: row.id, dueAt: new Date(next.due).toISOString() });
        }
        next = dueTime(schedule, { createdAt: history.createdAt, last: { scheduledFor: next.due, endedAt: undefined } }, now);
      }
      if (next.wakeAt !== undefined) earliest = Math.min(earliest ?? Infinity, next.wakeAt);
    }
    if (started > 0) this.options.started();
    return earliest;
  }
}
