/**
 * Backfill: a selection of logged events replayed for real to one version of a flow (the live
 * one by default). Each event is queued as a normal delivery for a deployment of that version —
 * the path dead-letter replays take (runtime/events/dead-letters.ts), with the original
 * CloudEvent id — and the worker delivers it as it delivers anything else.
 *
 * The job is a `backfill` row worked by the studio a chunk per call (`step`), as the dead-letter
 * page replays in chunks: the page drives it and shows progress; closing the page leaves it
 * where it was, and opening it again continues. The rate limit holds on the server: a step
 * takes at most `ratePerSecond` events for each second since the last one. Pause, resume and
 * cancel change the row's status; a step of a job that is not running does nothing.
 *
 * Idempotent: `backfill_mark` holds (event, flow version) for each event a backfill queued, so
 * an event replayed twice to the same version is delivered once, unless the job is forced; an
 * event that version delivered when it arrived is not sent again either.
 * Each event passes the deployment's ingress filters as the worker's ingress would decide (the
 * source's type filter and the filters before any transform: a delivery row means "passed");
 * those it drops are counted as filtered and not queued.
 */
import type pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import type { CloudEventRecord } from '@/runtime/events/cloudevent';
import { toRecord } from '@/runtime/events/delivery-queue';
import { planFromDocument } from '@/runtime/events/plan';
import { Subscription, type Consideration } from '@/runtime/events/subscriptions';
import { CompiledTrigger, workflowTrigger } from '@/runtime/runs/triggers';
import { ServiceError } from './errors';
import { eventSelection, selectEvents } from './replay';

export const MAX_BACKFILL_RATE = 500;

export const startBackfillInput = eventSelection.extend({
  flowId: z.string().uuid('must be a flow id'),
  /** The version to replay to; the live one when absent. It must have been deployed (the worker delivers through a deployment). */
  version: z.number().int().positive().optional(),
  force: z.boolean().default(false),
  ratePerSecond: z.number().int().min(1).max(MAX_BACKFILL_RATE, `at most ${MAX_BACKFILL_RATE} events a second`).default(20),
});

export const backfillIdInput = z.object({ id: z.string().uuid('must be a backfill id') });
export const controlBackfillInput = backfillIdInput.extend({ action: z.enum(['pause', 'resume', 'cancel']) });

export interface BackfillView {
  id: string;
  flowId: string;
  version: number;
  status: 'running' | 'paused' | 'cancelled' | 'done';
  total: number;
  worked: number;
  queued: number;
  skipped: number;
  filtered: number;
  force: boolean;
  ratePerSecond: number;
  since: string | null;
  until: string | null;
  createdAt: string;
  /** Worked, as a whole percentage of the total. */
  percent: number;
}

type BackfillRow = Awaited<ReturnType<PrismaClient['backfill']['findUniqueOrThrow']>>;

function view(row: BackfillRow): BackfillView {
  return {
    id: row.id,
    flowId: row.flowId,
    version: row.version,
    status: row.status as BackfillView['status'],
    total: row.total,
    worked: row.worked,
    queued: row.queued,
    skipped: row.skipped,
    filtered: row.filtered,
    force: row.force,
    ratePerSecond: row.ratePerSecond,
    since: row.since?.toISOString() ?? null,
    until: row.until?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    percent: row.total === 0 ? 100 : Math.min(100, Math.floor((row.worked / row.total) * 100)),
  };
}

function selectionOf(row: BackfillRow): z.infer<typeof eventSelection> {
  return {
    ...(row.since ? { since: row.since.toISOString() } : {}),
    ...(row.until ? { until: row.until.toISOString() } : {}),
    ...(Array.isArray(row.eventIds) ? { eventIds: row.eventIds as string[] } : {}),
  };
}

async function ingressOfVersion(db: PrismaClient, flowVersionId: string) {
  const version = await db.flowVersion.findUniqueOrThrow({ where: { id: flowVersionId }, select: { dslYaml: true } });
  const document = parseYaml(version.dslYaml) as unknown;
  const ingress = workflowTrigger(document)?.ingress ?? 'any';
  return { document, ingress: ingress === 'any' ? undefined : ingress };
}

/** What the worker's ingress would decide for this deployment: the same compiled subscription or workflow trigger. */
async function admission(deployment: { id: string; flowId: string }, document: unknown): Promise<(event: CloudEventRecord, ingress: string) => Promise<Consideration | undefined>> {
  const plan = planFromDocument(document);
  if (plan.kind === 'pipeline') {
    const subscription = await Subscription.compile(deployment, plan);
    return async (event, ingress) => subscription.consider(event, ingress);
  }
  const trigger = workflowTrigger(document);
  if (!trigger) throw new ServiceError('PRECONDITION_FAILED', 'this version is not started by events (a schedule or a manual start), so there is nothing to backfill');
  const compiled = await CompiledTrigger.compile(deployment.id, trigger, deployment.flowId);
  return async (event, ingress) => compiled.consider(event, ingress);
}

export async function startBackfill(ctx: { db: PrismaClient; pool: pg.Pool; userId?: string }, raw: z.input<typeof startBackfillInput>): Promise<BackfillView> {
  const input = startBackfillInput.parse(raw);
  const flow = await ctx.db.flow.findUnique({ where: { id: input.flowId }, select: { name: true } });
  if (!flow) throw new ServiceError('NOT_FOUND', `flow ${input.flowId} does not exist`);
  const deployment = await ctx.db.deployment.findFirst({
    where: { flowId: input.flowId, ...(input.version === undefined ? { status: 'active' } : { flowVersion: { version: input.version } }) },
    // The active deployment of the version first, else its latest.
    orderBy: [{ status: 'asc' }, { createdAt: 'desc' }],
    select: { id: true, flowVersionId: true, flowVersion: { select: { version: true } } },
  });
  if (!deployment) {
    throw new ServiceError(
      'PRECONDITION_FAILED',
      input.version === undefined
        ? `flow “${flow.name}” is not deployed: deploy it, or name a version that was deployed, to backfill to`
        : `v${input.version} of flow “${flow.name}” was never deployed, and the worker delivers through a deployment: deploy it first`,
    );
  }
  const { ingress } = await ingressOfVersion(ctx.db, deployment.flowVersionId);
  const { rows } = await ctx.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM event e
      WHERE ($1::text[] IS NULL OR e.ingress = ANY($1::text[]))
        AND ($2::timestamptz IS NULL OR e."receivedAt" >= $2::timestamptz::timestamp)
        AND ($3::timestamptz IS NULL OR e."receivedAt" < $3::timestamptz::timestamp)
        AND ($4::text[] IS NULL OR e.id = ANY($4::text[]))
        AND ($5::text IS NULL OR e.source = $5) AND ($6::text IS NULL OR e.type = $6)`,
    [ingress ?? null, input.since ?? null, input.until ?? null, input.eventIds ?? null, input.source ?? null, input.type ?? null],
  );
  const row = await ctx.db.backfill.create({
    data: {
      flowId: input.flowId,
      deploymentId: deployment.id,
      flowVersionId: deployment.flowVersionId,
      version: deployment.flowVersion.version,
      since: input.since ? new Date(input.since) : null,
      until: input.until ? new Date(input.until) : null,
      ...(input.eventIds ? { eventIds: input.eventIds } : {}),
      force: input.force,
      ratePerSecond: input.ratePerSecond,
      total: rows[0]?.n ?? 0,
      status: (rows[0]?.n ?? 0) === 0 ? 'done' : 'running',
      createdBy: ctx.userId ?? null,
    },
  });
  return view(row);
}

/**
 * Works the next chunk of a running backfill: as many events as its rate allows since the
 * last step. Returns the job, and how long to wait before the next step.
 */
export async function stepBackfill(ctx: { db: PrismaClient; pool: pg.Pool }, id: string): Promise<BackfillView & { waitMs: number }> {
  const client = await ctx.pool.connect();
  try {
    await client.query('BEGIN');
    // One step at a time per job: a second caller waits here, then sees the moved cursor.
    const { rows: locked } = await client.query<{ status: string; elapsedMs: number | null }>(
      `SELECT status, extract(epoch FROM LOCALTIMESTAMP - "lastStepAt")::float8 * 1000 AS "elapsedMs" FROM backfill WHERE id = $1 FOR UPDATE`,
      [id],
    );
    if (!locked[0]) throw new ServiceError('NOT_FOUND', `backfill ${id} does not exist`);
    const job = await ctx.db.backfill.findUniqueOrThrow({ where: { id } });
    if (locked[0].status !== 'running') {
      await client.query('COMMIT');
      return { ...view(job), waitMs: 0 };
    }
    const elapsed = locked[0].elapsedMs ?? 1000;
    const take = Math.min(job.ratePerSecond, Math.floor((job.ratePerSecond * Math.min(elapsed, 1000)) / 1000));
    if (take < 1) {
      await client.query('COMMIT');
      return { ...view(job), waitMs: Math.ceil(1000 / job.ratePerSecond - elapsed) };
    }
    const { document, ingress } = await ingressOfVersion(ctx.db, job.flowVersionId);
    const consider = await admission({ id: job.deploymentId, flowId: job.flowId }, document);
    const rows = await selectEvents(ctx.pool, selectionOf(job), ingress, job.cursor.toString(), take);
    const accepted: string[] = [];
    let filtered = 0;
    for (const row of rows) {
      if ((await consider(toRecord(row), row.ingress))?.queued === true) accepted.push(row.seq);
      else filtered += 1;
    }
    // Mark first: only events this version has not had — from a backfill, or delivered when they
    // arrived — go on to the queue; when forced, all of them.
    const { rows: marked } = await client.query<{ eventSeq: string }>(
      `INSERT INTO backfill_mark ("eventSeq", "flowVersionId", "backfillId")
       SELECT s::bigint, $2, $3 FROM unnest($1::text[]) s
        WHERE $4 OR NOT EXISTS (
          SELECT 1 FROM delivery_outcome o JOIN deployment d ON d.id = o."deploymentId"
           WHERE o."eventSeq" = s::bigint AND o.outcome = 'delivered' AND d."flowVersionId" = $2)
       ON CONFLICT ("eventSeq", "flowVersionId") DO ${job.force ? `UPDATE SET "backfillId" = EXCLUDED."backfillId", at = LOCALTIMESTAMP` : 'NOTHING'}
       RETURNING "eventSeq"::text AS "eventSeq"`,
      [accepted, job.flowVersionId, job.id, job.force],
    );
    if (marked.length > 0) {
      await client.query(`INSERT INTO delivery ("eventSeq", "deploymentId") SELECT s::bigint, $2 FROM unnest($1::text[]) s`, [marked.map((m) => m.eventSeq), job.deploymentId]);
    }
    const done = rows.length < take;
    await client.query(
      `UPDATE backfill SET worked = worked + $2, queued = queued + $3, skipped = skipped + $4, filtered = filtered + $5,
              cursor = $6::bigint, "lastStepAt" = LOCALTIMESTAMP, status = $7, "updatedAt" = LOCALTIMESTAMP
        WHERE id = $1`,
      [id, rows.length, marked.length, accepted.length - marked.length, filtered, rows.at(-1)?.seq ?? job.cursor.toString(), done ? 'done' : 'running'],
    );
    await client.query('COMMIT');
    const after = await ctx.db.backfill.findUniqueOrThrow({ where: { id } });
    return { ...view(after), waitMs: done ? 0 : Math.ceil(1000 / Math.max(1, job.ratePerSecond / Math.max(1, take))) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

const TRANSITIONS: Record<z.infer<typeof controlBackfillInput>['action'], { from: string[]; to: string }> = {
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['running', 'paused'], to: 'cancelled' },
};

export async function controlBackfill(db: PrismaClient, input: z.infer<typeof controlBackfillInput>): Promise<BackfillView> {
  const rule = TRANSITIONS[input.action];
  const updated = await db.backfill.updateMany({ where: { id: input.id, status: { in: rule.from } }, data: { status: rule.to } });
  const row = await db.backfill.findUnique({ where: { id: input.id } });
  if (!row) throw new ServiceError('NOT_FOUND', `backfill ${input.id} does not exist`);
  if (updated.count === 0) throw new ServiceError('CONFLICT', `cannot ${input.action} a backfill that is ${row.status} (only one that is ${rule.from.join(' or ')})`);
  return view(row);
}

export async function getBackfill(db: PrismaClient, id: string): Promise<BackfillView> {
  const row = await db.backfill.findUnique({ where: { id } });
  if (!row) throw new ServiceError('NOT_FOUND', `backfill ${id} does not exist`);
  return view(row);
}

/** A flow's backfills, newest first. */
export async function listBackfills(db: PrismaClient, flowId: string): Promise<BackfillView[]> {
  const rows = await db.backfill.findMany({ where: { flowId }, orderBy: { createdAt: 'desc' }, take: 20 });
  return rows.map(view);
}
