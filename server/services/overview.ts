/**
 * The overview: the last hour per minute — events in, deliveries out, failures — and the
 * backlog per subscription, from the tables the data plane writes; and the worker's own
 * figures, read from its `/metrics` (the same numbers Prometheus scrapes).
 */
import type pg from 'pg';

export interface MinutePoint {
  minute: Date;
  eventsIn: number;
  delivered: number;
  failures: number;
}

/**
 * Backlog at the end of each minute is rebuilt from what is known now: a delivery was waiting
 * at minute m if its event had arrived by m and it is still queued, or ended (delivered,
 * filtered, dead-lettered) after m. A delivery row starts with its event, so the event's
 * arrival stands for it (replays start later and count from their event's arrival).
 */
const HOUR = `
WITH minutes AS (
  SELECT generate_series(date_trunc('minute', LOCALTIMESTAMP) - interval '59 minutes', date_trunc('minute', LOCALTIMESTAMP), interval '1 minute') AS minute
)
SELECT m.minute,
       (SELECT count(*) FROM event e WHERE e."receivedAt" >= m.minute AND e."receivedAt" < m.minute + interval '1 minute')::int AS "eventsIn",
       (SELECT count(*) FROM delivery_outcome o WHERE o.outcome = 'delivered' AND o."at" >= m.minute AND o."at" < m.minute + interval '1 minute')::int AS delivered,
       ((SELECT count(*) FROM delivery_outcome o WHERE o.outcome = 'retried' AND o."at" >= m.minute AND o."at" < m.minute + interval '1 minute')
        + (SELECT count(*) FROM dead_letter l WHERE l."createdAt" >= m.minute AND l."createdAt" < m.minute + interval '1 minute'))::int AS failures
  FROM minutes m ORDER BY m.minute`;

const BACKLOG = `
WITH minutes AS (
  SELECT generate_series(date_trunc('minute', LOCALTIMESTAMP) - interval '59 minutes', date_trunc('minute', LOCALTIMESTAMP), interval '1 minute') + interval '1 minute' AS edge
), waiting AS (
  SELECT d."deploymentId", e."receivedAt" AS since, NULL::timestamp AS until FROM delivery d JOIN event e ON e.seq = d."eventSeq"
  UNION ALL
  SELECT o."deploymentId", e."receivedAt", o."at" FROM delivery_outcome o JOIN event e ON e.seq = o."eventSeq"
   WHERE o.outcome <> 'retried' AND o."at" > LOCALTIMESTAMP - interval '61 minutes'
  UNION ALL
  SELECT l."deploymentId", e."receivedAt", l."createdAt" FROM dead_letter l JOIN event e ON e.seq = l."eventSeq"
   WHERE l."deploymentId" IS NOT NULL AND l."createdAt" > LOCALTIMESTAMP - interval '61 minutes'
)
SELECT w."deploymentId", m.edge - interval '1 minute' AS minute, count(*)::int AS n
  FROM minutes m JOIN waiting w ON w.since < m.edge AND (w.until IS NULL OR w.until >= m.edge)
 GROUP BY w."deploymentId", m.edge ORDER BY m.edge`;

export async function lastHour(pool: pg.Pool) {
  const [{ rows: points }, { rows: backlogRows }] = await Promise.all([
    pool.query<MinutePoint>(HOUR),
    pool.query<{ deploymentId: string; minute: Date; n: number }>(BACKLOG),
  ]);
  const ids = [...new Set(backlogRows.map((r) => r.deploymentId))];
  const { rows: names } = await pool.query<{ id: string; flowName: string }>(
    `SELECT d.id, f.name AS "flowName" FROM deployment d JOIN flow f ON f.id = d."flowId" WHERE d.id = ANY($1::text[])`,
    [ids],
  );
  const nameOf = new Map(names.map((n) => [n.id, n.flowName]));
  const backlog = ids.map((id) => ({
    deploymentId: id,
    flowName: nameOf.get(id) ?? id,
    points: backlogRows.filter((r) => r.deploymentId === id).map((r) => ({ minute: r.minute, n: r.n })),
  }));
  return { points, backlog };
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
        accepted: sum('meshflow_events_accepted_total'),
        duplicates: sum('meshflow_events_duplicate_total'),
        rejected: sum('meshflow_events_rejected_total'),
        delivered: sum('meshflow_deliveries_total', (l) => l.outcome === 'delivered'),
        retried: sum('meshflow_deliveries_total', (l) => l.outcome === 'retried'),
        deadLettered: sum('meshflow_deliveries_total', (l) => l.outcome === 'dead_lettered'),
        filtered: sum('meshflow_deliveries_total', (l) => l.outcome === 'filtered'),
        backlog: sum('meshflow_delivery_backlog'),
      },
    };
  } catch (error) {
    return { up: false, detail: `worker unreachable at ${workerUrl}: ${(error as Error).message}`, figures: null };
  }
}
