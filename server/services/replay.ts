/**
 * "What would this edit have done to yesterday's events?" A dry-run replay takes logged events
 * (a time range, CloudEvent ids, an event source or type; by default every retained event the
 * flow's sources received) and runs each through the live version and through a candidate (a
 * saved version or the unsaved draft), both as dry runs (services/dry-run.ts): every external
 * call answers with a stub and is recorded, so nothing reaches a target. Per event it lists
 * what each version would send and what differs: deliveries added, removed or changed (field
 * by field), and outcomes (filtered, faulted, delivered) that changed.
 *
 * The work is bounded: at most MAX_REPLAY_EVENTS events a call, each run within the test run's
 * time and expression budgets, the whole call within REPLAY_DEADLINE_MS (what is left is
 * reported as `truncated`, with the cursor to continue from).
 */
import type pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { compile } from '@/runtime/compiler/compile';
import { hasErrors } from '@/runtime/compiler/diagnostics';
import type { WorkflowDocument } from '@/runtime/engine/types';
import { EVENT_COLUMNS, toRecord, type EventRow } from '@/runtime/events/delivery-queue';
import { diffSides, sideOf, sourceMiss, taskNames, type ReplayChange, type ReplaySide } from '@/runtime/events/dry-run';

export type { ReplayChange, ReplaySide } from '@/runtime/events/dry-run';
import { workflowTrigger } from '@/runtime/runs/triggers';
import { env } from '../env';
import { studioDryRun } from './dry-run';
import { ServiceError } from './errors';

export const MAX_REPLAY_EVENTS = 500;
const REPLAY_DEADLINE_MS = 120_000;

const isoTime = z.string().datetime({ offset: true, message: 'must be an ISO 8601 time such as 2026-12-01T00:00:00Z' });

/** Which logged events: every field narrows the selection. */
export const eventSelection = z.object({
  since: isoTime.optional(),
  until: isoTime.optional(),
  /** CloudEvent ids. */
  eventIds: z.array(z.string().min(1)).max(MAX_REPLAY_EVENTS).optional(),
  /** The CloudEvents `source` attribute: the events of one producer. */
  source: z.string().min(1).max(2000).optional(),
  type: z.string().min(1).max(2000).optional(),
});

export const candidateInput = z.union([
  z.object({ graph: z.unknown() }),
  z.object({ version: z.number().int().positive('a version number such as 3') }),
]);

export const dryRunReplayInput = eventSelection.extend({
  flowId: z.string().uuid('must be a flow id'),
  candidate: candidateInput,
  /** What the candidate is compared with: the live version unless a version is named. */
  against: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(MAX_REPLAY_EVENTS, `at most ${MAX_REPLAY_EVENTS} events a call; continue with \`after\``).default(100),
  /** Continue after this event sequence (the previous answer's `nextAfter`). */
  after: z.string().regex(/^\d+$/, 'an event sequence number').optional(),
});

interface Version {
  label: string;
  version: number | null;
  document: WorkflowDocument;
  nodeIds: ReadonlySet<string>;
}

export interface ReplayedEvent {
  eventId: string;
  seq: string;
  source: string;
  type: string;
  receivedAt: string;
  event: Record<string, unknown>;
  live: ReplaySide;
  candidate: ReplaySide;
  changes: ReplayChange[];
}

export interface ReplaySummary {
  flowId: string;
  live: { label: string; version: number | null };
  candidate: { label: string; version: number | null };
  events: number;
  changed: number;
  added: number;
  removed: number;
  changedDeliveries: number;
  outcomesChanged: number;
  /** Events the flow's ingress logged that neither version's source takes. */
  ignored: number;
  /** The work stopped at its limit or deadline; continue after `nextAfter`. */
  truncated: boolean;
  nextAfter: string | null;
  retentionHours: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function graphNodeIds(graph: unknown): Set<string> {
  return new Set((isObj(graph) && Array.isArray(graph.nodes) ? graph.nodes : []).map((n) => String((n as { id?: unknown }).id)));
}

async function versionOf(db: PrismaClient, flowId: string, version: number): Promise<Version> {
  const row = await db.flowVersion.findUnique({ where: { flowId_version: { flowId, version } } });
  if (!row) throw new ServiceError('NOT_FOUND', `flow ${flowId} has no version ${version}`);
  const document = parseYaml(row.dslYaml) as WorkflowDocument;
  const ids = graphNodeIds(row.graph);
  return { label: `v${row.version}`, version: row.version, document, nodeIds: ids.size > 0 ? ids : taskNames(document) };
}

/** The version events go to now: the flow's active deployment. */
export async function liveVersion(db: PrismaClient, flowId: string) {
  const flow = await db.flow.findUnique({ where: { id: flowId }, select: { name: true } });
  if (!flow) throw new ServiceError('NOT_FOUND', `flow ${flowId} does not exist`);
  const deployment = await db.deployment.findFirst({
    where: { flowId, status: 'active' },
    orderBy: { createdAt: 'desc' },
    select: { id: true, flowVersion: { select: { id: true, version: true } } },
  });
  return deployment ? { name: flow.name, deploymentId: deployment.id, flowVersionId: deployment.flowVersion.id, version: deployment.flowVersion.version } : { name: flow.name };
}

async function candidateOf(db: PrismaClient, flowId: string, candidate: z.infer<typeof candidateInput>): Promise<Version> {
  if ('version' in candidate) return versionOf(db, flowId, candidate.version);
  const compiled = compile(candidate.graph);
  if (!compiled.document || hasErrors(compiled.diagnostics)) {
    const problems = compiled.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.nodeId ? `${d.nodeId}: ` : ''}${d.message}`);
    throw new ServiceError('BAD_REQUEST', `the candidate does not compile: ${problems.join('; ')}`);
  }
  return { label: 'draft', version: null, document: compiled.document as unknown as WorkflowDocument, nodeIds: graphNodeIds(candidate.graph) };
}

/** The ingress points either version listens on; undefined when one of them takes events from anywhere. */
function ingressOf(...documents: unknown[]): string[] | undefined {
  const all = new Set<string>();
  for (const document of documents) {
    const ingress = workflowTrigger(document)?.ingress ?? 'any';
    if (ingress === 'any') return undefined;
    for (const i of ingress) all.add(i);
  }
  return [...all];
}

interface SelectedRow extends EventRow {
  seq: string;
  ingress: string;
  receivedAt: string;
}

/** Logged events in sequence order after `after`, within the selection and the given ingress points. */
export async function selectEvents(pool: pg.Pool, selection: z.infer<typeof eventSelection>, ingress: string[] | undefined, after: string, limit: number) {
  const { rows } = await pool.query<SelectedRow>(
    `SELECT e.seq::text AS seq, e.ingress, ${EVENT_COLUMNS}, to_char(e."receivedAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "receivedAt"
       FROM event e
      WHERE e.seq > $1::bigint
        AND ($2::text[] IS NULL OR e.ingress = ANY($2::text[]))
        AND ($3::timestamptz IS NULL OR e."receivedAt" >= $3::timestamptz::timestamp)
        AND ($4::timestamptz IS NULL OR e."receivedAt" < $4::timestamptz::timestamp)
        AND ($5::text[] IS NULL OR e.id = ANY($5::text[]))
        AND ($6::text IS NULL OR e.source = $6)
        AND ($7::text IS NULL OR e.type = $7)
      ORDER BY e.seq
      LIMIT $8`,
    [after, ingress ?? null, selection.since ?? null, selection.until ?? null, selection.eventIds ?? null, selection.source ?? null, selection.type ?? null, limit],
  );
  return rows;
}

export interface ReplayContext {
  db: PrismaClient;
  pool: pg.Pool;
  secretKey: Buffer;
}

/** Per event, what the live version and the candidate would each send, and the difference. */
export async function dryRunReplay(
  ctx: ReplayContext,
  raw: z.input<typeof dryRunReplayInput>,
  onEvent?: (event: ReplayedEvent) => void,
): Promise<{ events: ReplayedEvent[]; summary: ReplaySummary }> {
  const input = dryRunReplayInput.parse(raw);
  let live: Version;
  if (input.against !== undefined) live = await versionOf(ctx.db, input.flowId, input.against);
  else {
    const now = await liveVersion(ctx.db, input.flowId);
    if (!('version' in now) || now.version === undefined) {
      throw new ServiceError('PRECONDITION_FAILED', `flow “${now.name}” is not deployed, so there is no live version to compare with: deploy it, or name a saved version to compare with (“Compare with version” in the designer, --against on the command line)`);
    }
    live = await versionOf(ctx.db, input.flowId, now.version);
    live.label = `live v${now.version}`;
  }
  const candidate = await candidateOf(ctx.db, input.flowId, input.candidate);
  const ingress = ingressOf(live.document, candidate.document);
  const started = Date.now();
  const events: ReplayedEvent[] = [];
  let ignored = 0;
  let after = input.after ?? '0';
  let truncated = false;
  let exhausted = false;
  // Read a page at a time; events neither version's source takes are counted, not listed.
  while (events.length < input.limit && !exhausted) {
    const rows = await selectEvents(ctx.pool, input, ingress, after, Math.min(200, (input.limit - events.length) * 4));
    if (rows.length === 0) exhausted = true;
    for (const row of rows) {
      if (events.length >= input.limit || Date.now() - started > REPLAY_DEADLINE_MS) {
        truncated = true;
        break;
      }
      after = row.seq;
      const event = toRecord(row) as unknown as Record<string, unknown>;
      const [liveMiss, candidateMiss] = await Promise.all([sourceMiss(live.document, event), sourceMiss(candidate.document, event)]);
      if (liveMiss && candidateMiss) {
        ignored += 1;
        continue;
      }
      const run = (version: Version) => studioDryRun(ctx, version.document, event, { nodeIds: version.nodeIds, what: `this replay of ${row.eventId}` });
      const liveSide = sideOf(await run(live));
      const candidateSide = sideOf(await run(candidate));
      const replayed: ReplayedEvent = {
        eventId: row.eventId,
        seq: row.seq,
        source: row.source,
        type: row.type,
        receivedAt: row.receivedAt,
        event,
        live: liveSide,
        candidate: candidateSide,
        changes: diffSides(liveSide, candidateSide),
      };
      events.push(replayed);
      onEvent?.(replayed);
    }
    if (truncated) break;
  }
  if (!truncated && !exhausted) {
    // The limit was reached: there is more only if another relevant row follows.
    truncated = (await selectEvents(ctx.pool, input, ingress, after, 1)).length > 0;
  }
  const count = (kind: ReplayChange['change']) => events.reduce((n, e) => n + e.changes.filter((c) => c.change === kind).length, 0);
  return {
    events,
    summary: {
      flowId: input.flowId,
      live: { label: live.label, version: live.version },
      candidate: { label: candidate.label, version: candidate.version },
      events: events.length,
      changed: events.filter((e) => e.changes.length > 0).length,
      added: count('added'),
      removed: count('removed'),
      changedDeliveries: count('changed'),
      outcomesChanged: count('outcome'),
      ignored,
      truncated,
      nextAfter: truncated ? after : null,
      retentionHours: env().MESHFLOW_EVENT_RETENTION_HOURS,
    },
  };
}
