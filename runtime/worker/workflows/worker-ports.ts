/**
 * The engine's ports bound to the worker: wall clock and timers, fetch for HTTP, secrets
 * from the secret store (never the environment), and two backed by PostgreSQL — events (an
 * `emit` is appended to the event log like an event POSTed to /events, so other flows consume
 * it; a `listen` reads the log from the moment it began) and lifecycle (task events become
 * `run_step` rows, with secret values masked).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { fetchHttp, realTimers } from '../../engine/host/node-ports.ts';
import type { AsyncApiPort, CloudEvent, EnginePorts, EventPort, Json, JsonObject, LifecyclePort, ListenRequest, ScriptPort, WorkflowResolver } from '../../engine/index.ts';
import { validateStructured, type CloudEventRecord } from '../../events/cloudevent.ts';
import { EVENT_COLUMNS, toRecord, type EventRow } from '../../events/delivery-queue.ts';
import type { EventAppender } from '../../events/backend.ts';
import type { SubscriptionSet } from '../../events/subscriptions.ts';
import { logEventType } from '../../nodes/log.node.ts';
import type { Masker } from '../../secrets/mask.ts';
import type { Logger } from '../log.ts';

export interface RunSecrets {
  /** The named secrets; throws naming any that is not defined. */
  resolve(names: string[]): Promise<Record<string, string>>;
  /** Replaces secret values in what is about to be recorded. */
  masker(): Masker;
}

/** Events whose commit may still be pending behind a later one are read again for this long. */
const SETTLE_MS = 5_000;

export interface WorkerPortsDeps {
  pool: pg.Pool;
  eventLog: EventAppender;
  routing: () => SubscriptionSet;
  /** The secrets users defined (runtime/worker/secret-store.ts). */
  secrets: RunSecrets;
  /** `run: workflow` subflows by namespace, name and version. */
  workflows: WorkflowResolver;
  /** `call: asyncapi` publishes to brokers, one connection per broker shared by all runs. */
  asyncapi?: AsyncApiPort;
  /** `run: script`, bound only when MESHFLOW_SCRIPTS=enabled: a runner that starts a locked-down process per script. */
  scripts?: ScriptPort;
  pollMs: number;
  /** Also append lifecycle events to the event log (ingress `lifecycle`). */
  publishLifecycle: boolean;
  log: Logger;
}

/** Appends a CloudEvent to the log with the routes the ingress would give it. */
async function append(deps: WorkerPortsDeps, event: CloudEvent, ingress: string): Promise<void> {
  const record: CloudEventRecord = validateStructured(event);
  await deps.eventLog.append([{ event: record, ingress, ...(await deps.routing().decide(record, ingress)) }]);
}

/** Exact `type`s every filter of a listen names, to narrow the query; undefined when any filter could match other types. */
function literalTypes(to: Json): string[] | undefined {
  const spec = to as { one?: { with?: JsonObject }; any?: { with?: JsonObject }[]; all?: { with?: JsonObject }[] };
  const filters = spec.one ? [spec.one] : (spec.any ?? spec.all ?? []);
  if (filters.length === 0) return undefined;
  const types: string[] = [];
  for (const f of filters) {
    const type = f.with?.type;
    // Plain names only: the engine also reads `with` values as regular expressions and `${ }` expressions.
    if (typeof type !== 'string' || !/^[\w.:/-]+$/.test(type)) return undefined;
    types.push(type);
  }
  return types;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class LogEventPort implements EventPort {
  constructor(
    private readonly deps: WorkerPortsDeps,
    /** The event that started the run, offered first to the leading `listen` it satisfies. */
    private readonly trigger?: { at: string; event: CloudEvent },
  ) {}

  publish(event: CloudEvent): Promise<void> {
    // A log line is the run's log, shown in the studio: secret values in it are masked.
    return append(this.deps, event.type === logEventType ? this.deps.secrets.masker()(event) : event, 'events');
  }

  subscribe(request: ListenRequest, signal: AbortSignal): AsyncIterable<CloudEvent> {
    const { pool, pollMs } = this.deps;
    const trigger = this.trigger?.at === request.at ? this.trigger.event : undefined;
    const types = literalTypes(request.to);
    return {
      async *[Symbol.asyncIterator]() {
        if (trigger) yield trigger;
        let cursor = '0';
        const seen = new Set<string>();
        while (!signal.aborted) {
          const { rows } = await pool.query<EventRow & { seq: string; settled: boolean }>(
            `SELECT e.seq::text AS seq, e."receivedAt" < LOCALTIMESTAMP - make_interval(secs => $4::double precision / 1000) AS settled, ${EVENT_COLUMNS}
               FROM event e
              WHERE e.seq > $1::bigint AND e."receivedAt" >= LOCALTIMESTAMP - make_interval(secs => $2::double precision / 1000)
                AND ($3::text[] IS NULL OR e.type = ANY($3::text[]))
              ORDER BY e.seq LIMIT 500`,
            [cursor, Math.max(0, Date.now() - request.since), types ?? null, SETTLE_MS],
          );
          for (const row of rows) {
            if (row.settled && BigInt(row.seq) > BigInt(cursor)) cursor = row.seq;
            if (seen.has(row.seq)) continue;
            seen.add(row.seq);
            yield toRecord(row) as CloudEvent;
          }
          for (const seq of seen) if (BigInt(seq) <= BigInt(cursor)) seen.delete(seq);
          if (rows.length < 500) await sleep(pollMs, signal);
        }
      },
    };
  }
}

type Step = { kind: string; ref: string; data: JsonObject; time: string };

/**
 * Records a run's task lifecycle as `run_step` rows: a row when a task starts (its attempt
 * counts the rows of the same task path before it — retries, and re-runs after a crash),
 * completed with its output, faulted with its error. Written in order, one run at a time;
 * the engine does not wait for them.
 */
export class StepRecorder implements LifecyclePort {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly runId: string,
    private readonly deps: WorkerPortsDeps,
  ) {}

  publish(event: CloudEvent): void {
    const type = /^io\.serverlessworkflow\.(task|workflow)\.([a-z-]+)\.v1$/.exec(event.type);
    if (!type) return;
    const data = this.deps.secrets.masker()((event.data ?? {}) as JsonObject);
    const work: (() => Promise<unknown>)[] = [];
    if (type[1] === 'task' && typeof data.task === 'string') {
      const step: Step = { kind: type[2]!, ref: data.task, data, time: event.time ?? new Date().toISOString() };
      work.push(() => this.record(step));
    }
    if (this.deps.publishLifecycle) work.push(() => append(this.deps, { ...event, data }, 'lifecycle'));
    for (const w of work) {
      this.chain = this.chain.then(w).then(
        () => undefined,
        (error: Error) => this.deps.log('warn', 'recording a lifecycle event failed', { run: this.runId, type: event.type, error: error.message }),
      );
    }
  }

  /** Resolves once everything published so far is written. */
  flushed(): Promise<void> {
    return this.chain;
  }

  private async record(step: Step): Promise<void> {
    const { pool } = this.deps;
    const name = step.ref.slice(step.ref.lastIndexOf('/') + 1);
    const at = `($3::timestamptz AT TIME ZONE 'UTC')`;
    switch (step.kind) {
      case 'started':
        await pool.query(
          `INSERT INTO run_step (id, "runId", "taskPath", "taskName", status, attempt, input, "startedAt")
           SELECT gen_random_uuid()::text, $1, $2, $4, 'running', count(*)::int + 1, $5::jsonb, ${at}
             FROM run_step WHERE "runId" = $1 AND "taskPath" = $2`,
          [this.runId, step.ref, step.time, name, JSON.stringify(step.data.input ?? null)],
        );
        return;
      case 'completed':
      case 'faulted':
      case 'cancelled': {
        const status = step.kind === 'completed' && step.data.skipped === true ? 'skipped' : step.kind;
        const value = step.kind === 'completed' ? (step.data.output ?? null) : null;
        const error = step.kind === 'faulted' ? (step.data.error ?? null) : null;
        await pool.query(
          `UPDATE run_step SET status = $4, output = $5::jsonb, error = $6::jsonb, "endedAt" = ${at}
            WHERE id = (SELECT id FROM run_step WHERE "runId" = $1 AND "taskPath" = $2 AND "endedAt" IS NULL ORDER BY attempt DESC LIMIT 1)`,
          [this.runId, step.ref, step.time, status, JSON.stringify(value), JSON.stringify(error)],
        );
        return;
      }
      default:
        return;
    }
  }
}

/** Every port of one run. */
export function runPorts(deps: WorkerPortsDeps, runId: string, trigger?: { at: string; event: CloudEvent }): { ports: EnginePorts; steps: StepRecorder } {
  const steps = new StepRecorder(runId, deps);
  const ports: EnginePorts = {
    clock: { now: () => Date.now() },
    timers: realTimers,
    ids: { next: () => randomUUID() },
    http: fetchHttp,
    events: new LogEventPort(deps, trigger),
    lifecycle: steps,
    workflows: deps.workflows,
    ...(deps.asyncapi ? { asyncapi: deps.asyncapi } : {}),
    ...(deps.scripts ? { scripts: deps.scripts } : {}),
    secrets: { resolve: (names) => deps.secrets.resolve(names) },
  };
  return { ports, steps };
}
