/**
 * The overview: the last hour per minute — events in, and what became of them per flow —
 * the backlog per subscription, from the tables the data plane writes; and the worker's own
 * figures, read from its `/metrics` (the same numbers Prometheus scrapes).
 */
import type pg from 'pg';
import { nodeName, nodeNames } from './flow-nodes';

export interface MinutePoint {
  minute: Date;
  eventsIn: number;
  /** Events times the deployments that considered them, recorded when they arrived. */
  accepted: number;
  filtered: number;
  delivered: number;
  deadLettered: number;
  pending: number;
  /** Delivery attempts that failed and will be tried again (attempts, so not part of the sum). */
  retried: number;
  /** Kept for the chart: retries and dead letters. */
  failures: number;
}

/**
 * The last hour by the minute each event arrived in, and what has become of it since in each
 * deployment that considered it: filtered, delivered (or its run completed), dead-lettered
 * (or its run failed), or still pending. Counting by arrival makes every window add up:
 * accepted = filtered + delivered + dead-lettered + pending. `accepted` comes from what the
 * worker wrote with the event (how many deployments considered it), not from the outcomes,
 * so a lost outcome shows as a gap rather than vanishing. An event counts once per flow: where
 * a flow left several traces of one event (a retry, a replay or backfill to its live version,
 * a re-run), the latest state wins: waiting over failed over delivered over filtered.
 */
const COHORT = `
WITH ev AS (
  SELECT seq, "receivedAt", considered FROM event WHERE "receivedAt" >= date_trunc('minute', LOCALTIMESTAMP) - interval '59 minutes'
), traces AS (
  SELECT d."eventSeq" AS seq, d."deploymentId" AS dep, 4 AS rank FROM delivery d JOIN ev ON ev.seq = d."eventSeq"
  UNION ALL
  SELECT r."eventSeq", r."deploymentId", CASE WHEN r.status = 'completed' THEN 2 WHEN r.status IN ('faulted', 'cancelled') THEN 3 ELSE 4 END
    FROM run r JOIN ev ON ev.seq = r."eventSeq" WHERE r."deploymentId" IS NOT NULL
  UNION ALL
  SELECT o."eventSeq", o."deploymentId", CASE o.outcome WHEN 'delivered' THEN 2 ELSE 1 END
    FROM delivery_outcome o JOIN ev ON ev.seq = o."eventSeq" WHERE o.outcome IN ('delivered', 'filtered')
  UNION ALL
  SELECT l."eventSeq", l."deploymentId", 3 FROM dead_letter l JOIN ev ON ev.seq = l."eventSeq"
   WHERE l."deploymentId" IS NOT NULL AND l."replayedAt" IS NULL
  UNION ALL
  -- Being sent by the worker that accepted it (a handoff, no delivery row): pending until recorded.
  SELECT h.seq, h.dep, 4 FROM (
    SELECT (i->>0)::bigint AS seq, i->>1 AS dep FROM delivery_handoff, jsonb_array_elements(items) i
  ) h JOIN ev ON ev.seq = h.seq
   WHERE NOT EXISTS (SELECT 1 FROM delivery_outcome o WHERE o."eventSeq" = h.seq AND o."deploymentId" = h.dep AND o.outcome IN ('delivered', 'filtered'))
     AND NOT EXISTS (SELECT 1 FROM dead_letter l WHERE l."eventSeq" = h.seq AND l."deploymentId" = h.dep)
), state AS (
  -- Versions of one flow are one flow here: a replay to the live version is the same event's fate.
  SELECT t.seq, coalesce(d."flowId", t.dep) AS flow, max(t.dep) AS dep, max(t.rank) AS rank
    FROM traces t LEFT JOIN deployment d ON d.id = t.dep GROUP BY t.seq, coalesce(d."flowId", t.dep)
)`;

const HOUR = `${COHORT}, minutes AS (
  SELECT generate_series(date_trunc('minute', LOCALTIMESTAMP) - interval '59 minutes', date_trunc('minute', LOCALTIMESTAMP), interval '1 minute') AS minute
), per_event AS (
  SELECT date_trunc('minute', ev."receivedAt") AS minute, count(*)::int AS "eventsIn", sum(ev.considered)::int AS accepted FROM ev GROUP BY 1
), per_state AS (
  SELECT date_trunc('minute', ev."receivedAt") AS minute,
         count(*) FILTER (WHERE s.rank = 1)::int AS filtered, count(*) FILTER (WHERE s.rank = 2)::int AS delivered,
         count(*) FILTER (WHERE s.rank = 3)::int AS "deadLettered", count(*) FILTER (WHERE s.rank = 4)::int AS pending
    FROM state s JOIN ev ON ev.seq = s.seq GROUP BY 1
), per_retry AS (
  SELECT date_trunc('minute', ev."receivedAt") AS minute, count(*)::int AS retried
    FROM delivery_outcome o JOIN ev ON ev.seq = o."eventSeq" WHERE o.outcome = 'retried' GROUP BY 1
)
SELECT m.minute, coalesce(e."eventsIn", 0) AS "eventsIn", coalesce(e.accepted, 0) AS accepted,
       coalesce(s.filtered, 0) AS filtered, coalesce(s.delivered, 0) AS delivered, coalesce(s."deadLettered", 0) AS "deadLettered",
       coalesce(s.pending, 0) AS pending, coalesce(r.retried, 0) AS retried, coalesce(r.retried, 0) + coalesce(s."deadLettered", 0) AS failures
  FROM minutes m LEFT JOIN per_event e ON e.minute = m.minute LEFT JOIN per_state s ON s.minute = m.minute LEFT JOIN per_retry r ON r.minute = m.minute
 ORDER BY m.minute`;

/** The hour's outcomes per deployment, and which nodes filtered how many. */
const PER_FLOW = `${COHORT}
SELECT max(s.dep) AS "deploymentId", count(*)::int AS accepted,
       count(*) FILTER (WHERE s.rank = 1)::int AS filtered, count(*) FILTER (WHERE s.rank = 2)::int AS delivered,
       count(*) FILTER (WHERE s.rank = 3)::int AS "deadLettered", count(*) FILTER (WHERE s.rank = 4)::int AS pending
  FROM state s GROUP BY s.flow`;

const FILTERED_BY = `
SELECT o."deploymentId", o.task, count(*)::int AS n FROM delivery_outcome o JOIN event e ON e.seq = o."eventSeq"
 WHERE o.outcome = 'filtered' AND e."receivedAt" >= date_trunc('minute', LOCALTIMESTAMP) - interval '59 minutes'
 GROUP BY o."deploymentId", o.task ORDER BY n DESC`;

const BACKLOG = `
WITH minutes AS (
  SELECT generate_series(date_trunc('minute', LOCALTIMESTAMP) - interval '59 minutes', date_trunc('minute', LOCALTIMESTAMP), interval '1 minute') + interval '1 minute' AS edge
), waiting AS (
  SELECT d."deploymentId", e."receivedAt" AS since, NULL::timestamp AS until FROM delivery d JOIN event e ON e.seq = d."eventSeq"
  UNION ALL
  SELECT o."deploymentId", e."receivedAt", o."at" FROM delivery_outcome o JOIN event e ON e.seq = o."eventSeq"
   WHERE o.outcome IN ('delivered', 'filtered') AND o.attempt > 0 AND o."at" > LOCALTIMESTAMP - interval '61 minutes'
  UNION ALL
  SELECT l."deploymentId", e."receivedAt", l."createdAt" FROM dead_letter l JOIN event e ON e.seq = l."eventSeq"
   WHERE l."deploymentId" IS NOT NULL AND l."createdAt" > LOCALTIMESTAMP - interval '61 minutes'
)
SELECT w."deploymentId", m.edge - interval '1 minute' AS minute, count(*)::int AS n
  FROM minutes m JOIN waiting w ON w.since < m.edge AND (w.until IS NULL OR w.until >= m.edge)
 GROUP BY w."deploymentId", m.edge ORDER BY m.edge`;

interface Counts {
  accepted: number;
  filtered: number;
  delivered: number;
  deadLettered: number;
  pending: number;
}

export async function lastHour(pool: pg.Pool) {
  const [{ rows: points }, { rows: backlogRows }, { rows: flowRows }, { rows: filteredRows }] = await Promise.all([
    pool.query<MinutePoint>(HOUR),
    pool.query<{ deploymentId: string; minute: Date; n: number }>(BACKLOG),
    pool.query<Counts & { deploymentId: string }>(PER_FLOW),
    pool.query<{ deploymentId: string; task: string | null; n: number }>(FILTERED_BY),
  ]);
  const ids = [...new Set([...backlogRows, ...flowRows, ...filteredRows].map((r) => r.deploymentId))];
  const { rows: names } = await pool.query<{ id: string; flowId: string; flowName: string; version: number; graph: unknown }>(
    `SELECT d.id, f.id AS "flowId", f.name AS "flowName", v.version, v.graph
       FROM deployment d JOIN flow f ON f.id = d."flowId" JOIN flow_version v ON v.id = d."flowVersionId" WHERE d.id = ANY($1::text[])`,
    [ids],
  );
  const deploymentOf = new Map(names.map((n) => [n.id, n]));
  const nameOf = new Map(names.map((n) => [n.id, n.flowName]));
  const backlog = ids
    .filter((id) => backlogRows.some((r) => r.deploymentId === id))
    .map((id) => ({
      deploymentId: id,
      flowName: nameOf.get(id) ?? id,
      points: backlogRows.filter((r) => r.deploymentId === id).map((r) => ({ minute: r.minute, n: r.n })),
    }));
  const totals = points.reduce<Counts & { eventsIn: number; retried: number }>(
    (t, p) => ({
      eventsIn: t.eventsIn + p.eventsIn,
      accepted: t.accepted + p.accepted,
      filtered: t.filtered + p.filtered,
      delivered: t.delivered + p.delivered,
      deadLettered: t.deadLettered + p.deadLettered,
      pending: t.pending + p.pending,
      retried: t.retried + p.retried,
    }),
    { eventsIn: 0, accepted: 0, filtered: 0, delivered: 0, deadLettered: 0, pending: 0, retried: 0 },
  );
  const flows = flowRows
    .map((row) => {
      const d = deploymentOf.get(row.deploymentId);
      const nodes = nodeNames(d?.graph);
      return {
        ...row,
        flowId: d?.flowId ?? null,
        flowName: d?.flowName ?? 'a deleted flow',
        version: d?.version ?? null,
        filteredBy: filteredRows
          .filter((f) => f.deploymentId === row.deploymentId)
          .map((f) => ({ node: f.task === null ? null : nodeName(nodes, f.task), n: f.n })),
      };
    })
    .sort((a, b) => b.accepted - a.accepted || a.flowName.localeCompare(b.flowName));
  return { points, backlog, totals, flows };
}

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments and blank lines skipped). */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * The worker's health and its counters since it started, as its `/metrics` reports them;
 * `metricsToken` is the bearer token the worker's /metrics requires when it has one.
 */
export async function workerFigures(workerUrl: string, metricsToken?: string) {
  try {
    const [health, metrics] = await Promise.all([
      fetch(new URL('/health', workerUrl), { signal: AbortSignal.timeout(2000) }),
      fetch(new URL('/metrics', workerUrl), { signal: AbortSignal.timeout(2000), headers: metricsToken ? { authorization: `Bearer ${metricsToken}` } : {} }),
    ]);
    if (metrics.status === 401) {
      const detail = metricsToken
        ? `the worker at ${workerUrl} refused the studio's MESHFLOW_METRICS_TOKEN for /metrics; set the same token on both`
        : `the worker at ${workerUrl} protects /metrics with a token; set MESHFLOW_METRICS_TOKEN for the studio too`;
      return { up: health.ok, detail, figures: null };
    }
    if (!metrics.ok) return { up: health.ok, detail: `the worker at ${workerUrl} answered /metrics with ${metrics.status}`, figures: null };
    const samples = parsePrometheusText(await metrics.text());
    const sum = (name: string, where: (labels: Record<string, string>) => boolean = () => true) =>
      samples.filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);
    return {
      up: health.ok,
      detail: health.ok ? 'worker up' : `the worker at ${workerUrl} answered /health with ${health.status}`,
      figures: {
        eventsIn: sum('meshflow_events_accepted_total'),
        accepted: sum('meshflow_flow_events_accepted_total'),
        duplicates: sum('meshflow_events_duplicate_total'),
        rejected: sum('meshflow_events_rejected_total'),
        delivered: sum('meshflow_deliveries_total', (l) => l.outcome === 'delivered'),
        retried: sum('meshflow_deliveries_total', (l) => l.outcome === 'retried'),
        deadLettered: sum('meshflow_deliveries_total', (l) => l.outcome === 'dead_lettered'),
        filtered: sum('meshflow_events_filtered_total'),
        backlog: sum('meshflow_delivery_backlog'),
        filteredBy: samples
          .filter((s) => s.name === 'meshflow_events_filtered_total' && s.value > 0)
          .map((s) => ({ deploymentId: s.labels.deployment ?? '', flowId: s.labels.flow ?? '', task: s.labels.node ?? '', n: s.value })),
      },
    };
  } catch (error) {
    return { up: false, detail: `worker unreachable at ${workerUrl}: ${(error as Error).message}`, figures: null };
  }
}

/** The worker's figures, with the flows and nodes its filtered counts are labelled with named as the user named them. */
export async function workerOverview(pool: pg.Pool, workerUrl: string, metricsToken?: string) {
  const worker = await workerFigures(workerUrl, metricsToken);
  if (!worker.figures) return { ...worker, filteredBy: [] };
  const ids = [...new Set(worker.figures.filteredBy.map((f) => f.deploymentId))];
  const { rows } = await pool.query<{ id: string; flowName: string; graph: unknown }>(
    `SELECT d.id, f.name AS "flowName", v.graph FROM deployment d JOIN flow f ON f.id = d."flowId" JOIN flow_version v ON v.id = d."flowVersionId" WHERE d.id = ANY($1::text[])`,
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.id, { flowName: r.flowName, nodes: nodeNames(r.graph) }]));
  const filteredBy = worker.figures.filteredBy.map((f) => {
    const d = byId.get(f.deploymentId);
    return { deploymentId: f.deploymentId, flowName: d?.flowName ?? 'a deleted flow', node: nodeName(d?.nodes ?? new Map(), f.task), n: f.n };
  });
  return { ...worker, filteredBy };
}
