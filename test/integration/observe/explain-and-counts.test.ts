/**
 * What the studio shows of a running flow is what the worker recorded: against a real worker
 * and a loopback sink, the overview's counts add up per flow and per window (and the worker's
 * /metrics per deployment), a filtered event and a wrong-type event on a webhook say which node
 * dropped them and why, and a pipeline event has a run with a per-node timeline.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import type { FlowGraph } from '@/runtime/nodes/types';
import { explainEvent, pipelineRunId } from '@/server/services/events';
import { lastHour, parsePrometheusText } from '@/server/services/overview';
import { getPipelineRun } from '@/server/services/pipeline-runs';
import { listRuns } from '@/server/services/runs';
import { applyMigrations } from '@/prisma/migrator';
import { createScratchDatabase, waitFor } from '@/test/helpers/databases';
import { deploy, pipeline, post, startSink, startWorker, structured, undeployAll, waitForHook, type Sink, type Worker } from '@/test/integration/events/helpers';

const tag = randomUUID().slice(0, 8);
const hookPath = `orders-${tag}`;
const ORDER = 'com.example.order.created';

/** webhook (orders only) → "big orders" data pattern → jq transform → HTTP request to the sink. */
function ordersGraph(sinkUrl: string): FlowGraph {
  return {
    document: { namespace: 'default', name: `big-orders-${tag}`, version: '0.1.0' },
    nodes: [
      { id: 'hook', kind: 'http-webhook', label: 'Orders webhook', config: { path: hookPath, mode: 'cloudevents', eventType: ORDER } },
      { id: 'big', kind: 'data-pattern', label: 'big orders', config: { pattern: { data: { amount: [{ numeric: ['>', 100] }] } } } },
      { id: 'stamp', kind: 'jq-transform', config: { expression: '{ orderId: .data.orderId, amount: .data.amount }' } },
      { id: 'sink', kind: 'http-request', label: 'Order sink', config: { method: 'post', url: `${sinkUrl}/orders`, body: '.' } },
    ],
    edges: [
      { id: 'a', source: 'hook', target: 'big' },
      { id: 'b', source: 'big', target: 'stamp' },
      { id: 'c', source: 'stamp', target: 'sink' },
    ],
  };
}

const order = (id: string, amount: number, type = ORDER) => structured({ id, source: '/shop', type, data: { orderId: id, amount } });

describe('explained events and counts that add up', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  let orders: { flowId: string; deploymentId: string };
  let failing: { deploymentId: string };
  let later: { deploymentId: string };
  let flaky: { deploymentId: string };
  let workflow: { deploymentId: string };
  const seqOf = async (id: string) => (await pool.query<{ seq: string }>(`SELECT seq::text FROM event WHERE id = $1`, [id])).rows[0]!.seq;

  beforeAll(async () => {
    // A database of its own: the overview counts everything in it, and other files' flows
    // (a worker killed mid-request, day-long retries) would be counted too.
    scratch = await createScratchDatabase(inject('adminUrl'));
    await applyMigrations(scratch.url);
    pool = new pg.Pool({ connectionString: scratch.url });
    sink = await startSink();
    let flakyCalls = 0;
    sink.respond = (r) => {
      if (r.url === '/fail') return 400;
      if (r.url === '/later') return 503;
      if (r.url === '/flaky') return ++flakyCalls === 1 ? 503 : 200;
      return 200;
    };
    const graph = ordersGraph(sink.url);
    orders = await deploy(pool, compile(graph).document, { name: `Big orders ${tag}`, graph });
    failing = await deploy(pool, pipeline({ name: `fail-${tag}`, url: `${sink.url}/fail`, delivery: { retry: 0 } }), { name: `Failing ${tag}` });
    // Answers 503 and waits a minute before the next try: still pending while the test looks.
    later = await deploy(pool, pipeline({ name: `later-${tag}`, url: `${sink.url}/later`, delivery: { retry: 3, backoffDelay: 'PT60S' } }), { name: `Later ${tag}` });
    flaky = await deploy(pool, pipeline({ name: `flaky-${tag}`, url: `${sink.url}/flaky`, delivery: { retry: 2, backoffDelay: 'PT0.1S', backoffPolicy: 'constant' } }), {
      name: `Flaky ${tag}`,
    });
    // A wait makes it a workflow: its event becomes a run, counted delivered once the run completes.
    workflow = await deploy(
      pool,
      {
        document: { dsl: '1.0.0', namespace: 'test', name: `wf-${tag}`, version: '0.1.0' },
        schedule: { on: { one: { with: { type: `com.example.wf-${tag}` } } } },
        do: [{ pause: { wait: 'PT0.01S' } }, { done: { set: { ok: true } } }],
      },
      { name: `Workflow ${tag}` },
    );
    worker = await startWorker(scratch.url, { MESHFLOW_RUN_POLL_MS: '50' });
    await waitForHook(worker.base, hookPath);

    for (const [id, amount] of [[`big-1-${tag}`, 500], [`big-2-${tag}`, 150], [`big-3-${tag}`, 101], [`small-1-${tag}`, 50], [`small-2-${tag}`, 100]] as const) {
      expect((await post(worker.base, `/hooks/${hookPath}`, order(id, amount))).status).toBe(202);
    }
    // Accepted and logged, and the reply tells the sender the webhook's flow did not take it.
    expect(await post(worker.base, `/hooks/${hookPath}`, order(`refund-${tag}`, 500, 'com.example.refund'))).toEqual({
      status: 202,
      body: { accepted: 1, duplicates: 0, filtered: [{ id: `refund-${tag}`, node: 'hook', reason: `accepts type "${ORDER}", this event is "com.example.refund"` }] },
    });
    expect((await post(worker.base, '/events', structured({ id: `fail-${tag}`, source: '/t', type: `com.example.fail-${tag}` }))).status).toBe(202);
    expect((await post(worker.base, '/events', structured({ id: `later-${tag}`, source: '/t', type: `com.example.later-${tag}` }))).status).toBe(202);
    expect((await post(worker.base, '/events', structured({ id: `flaky-${tag}`, source: '/t', type: `com.example.flaky-${tag}` }))).status).toBe(202);
    expect((await post(worker.base, '/events', structured({ id: `wf-${tag}`, source: '/t', type: `com.example.wf-${tag}` }))).status).toBe(202);

    await waitFor(async () => (sink.received.filter((r) => r.url === '/orders').length === 3 ? true : undefined), 15_000, 'the three big orders');
    await waitFor(
      async () => ((await pool.query(`SELECT 1 FROM dead_letter WHERE "deploymentId" = $1`, [failing.deploymentId])).rowCount ? true : undefined),
      15_000,
      'the failing flow’s dead letter',
    );
    await waitFor(async () => (sink.received.some((r) => r.url === '/flaky' && r.status === 200) ? true : undefined), 15_000, 'the flaky target’s second attempt');
    await waitFor(
      async () =>
        (await pool.query(`SELECT 1 FROM delivery_outcome WHERE "deploymentId" = $1 AND outcome = 'retried'`, [later.deploymentId])).rowCount ? true : undefined,
      15_000,
      'the later target’s first failed attempt',
    );
    await waitFor(
      async () => ((await pool.query(`SELECT 1 FROM run WHERE "deploymentId" = $1 AND status = 'completed'`, [workflow.deploymentId])).rowCount ? true : undefined),
      15_000,
      'the workflow run',
    );
    // The last outcomes are written in batches after the sink answers.
    await waitFor(
      async () =>
        (await pool.query(`SELECT 1 FROM delivery d WHERE d."deploymentId" = ANY($1::text[])`, [[orders.deploymentId, flaky.deploymentId]])).rowCount === 0 ? true : undefined,
      15_000,
      'delivered rows to be recorded',
    );
  }, 90_000);

  afterAll(async () => {
    await worker?.running.stop();
    await undeployAll(pool);
    await sink?.close();
    await pool?.end();
    await scratch?.drop();
  });

  it('counts every event once per flow that considered it, and each window adds up', async () => {
    // Counted over the whole (scratch) database; an event may be between two states for a moment
    // (e.g. its run being started), so the hour must add up once things settle.
    const addsUp = (h: Awaited<ReturnType<typeof lastHour>>) =>
      [h.totals, ...h.points].every((p) => p.accepted === p.filtered + p.delivered + p.deadLettered + p.pending);
    const hour = await waitFor(async () => {
      const h = await lastHour(pool);
      return addsUp(h) ? h : undefined;
    }, 15_000, 'the last hour to add up').catch(async () => lastHour(pool));
    const { totals } = hour;
    expect(totals.accepted).toBe(totals.filtered + totals.delivered + totals.deadLettered + totals.pending);
    for (const p of hour.points) expect(p.accepted, `minute ${p.minute.toISOString()}`).toBe(p.filtered + p.delivered + p.deadLettered + p.pending);

    const row = (id: string) => hour.flows.find((f) => f.deploymentId === id);
    // The webhook flow saw its six events: three delivered, two small orders and a refund filtered.
    expect(row(orders.deploymentId)).toMatchObject({ flowName: `Big orders ${tag}`, accepted: 6, filtered: 3, delivered: 3, deadLettered: 0, pending: 0 });
    const filteredAt = Object.fromEntries(row(orders.deploymentId)!.filteredBy.map((f) => [f.node?.label, f.n]));
    expect(filteredAt).toEqual({ 'big orders': 2, 'Orders webhook': 1 });
    // The four /events flows listen everywhere: each considered all ten events and took its own.
    expect(row(failing.deploymentId)).toMatchObject({ accepted: 10, filtered: 9, delivered: 0, deadLettered: 1, pending: 0 });
    expect(row(later.deploymentId)).toMatchObject({ accepted: 10, filtered: 9, delivered: 0, deadLettered: 0, pending: 1 });
    expect(row(flaky.deploymentId)).toMatchObject({ accepted: 10, filtered: 9, delivered: 1, deadLettered: 0, pending: 0 });
    expect(row(workflow.deploymentId)).toMatchObject({ accepted: 10, filtered: 9, delivered: 1, deadLettered: 0, pending: 0 });
    expect(totals.retried).toBeGreaterThanOrEqual(2);
  });

  it('exports the same balance per deployment on /metrics, labelled by deployment, flow and node, never by webhook path', async () => {
    const text = await (await fetch(`${worker.base}/metrics`)).text();
    const samples = parsePrometheusText(text);
    const value = (name: string, labels: Record<string, string>) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
    for (const { deploymentId } of [orders, failing, later, flaky]) {
      const d = { deployment: deploymentId };
      const accepted = value('meshflow_flow_events_accepted_total', d);
      const sum =
        value('meshflow_events_filtered_total', d) +
        value('meshflow_deliveries_total', { ...d, outcome: 'delivered' }) +
        value('meshflow_deliveries_total', { ...d, outcome: 'dead_lettered' }) +
        value('meshflow_delivery_backlog', d);
      expect(accepted, `deployment ${deploymentId}`).toBeGreaterThan(0);
      expect(sum, `deployment ${deploymentId}`).toBe(accepted);
    }
    expect(value('meshflow_events_filtered_total', { deployment: orders.deploymentId, flow: orders.flowId, node: 'big' })).toBe(2);
    expect(value('meshflow_events_filtered_total', { deployment: orders.deploymentId, flow: orders.flowId, node: 'hook' })).toBe(1);
    expect(value('meshflow_deliveries_total', { deployment: flaky.deploymentId, outcome: 'retried' })).toBe(1);
    const mine = text.split('\n').filter((l) => /^meshflow_(flow_events_accepted|events_filtered|deliveries)_total/.test(l));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.filter((l) => l.includes(hookPath))).toEqual([]);
  });

  it('says which node filtered a small order and why, from the row the worker wrote', async () => {
    const seq = await seqOf(`small-1-${tag}`);
    const { rows } = await pool.query(`SELECT task, reason, attempt FROM delivery_outcome WHERE "eventSeq" = $1 AND "deploymentId" = $2`, [seq, orders.deploymentId]);
    expect(rows).toEqual([{ task: 'big', reason: '`data.amount` 50 is not > 100', attempt: 0 }]);
    const explained = await explainEvent(pool, seq);
    const mine = explained.decisions.find((d) => d.deploymentId === orders.deploymentId);
    expect(mine).toMatchObject({ outcome: 'filtered', node: { id: 'big', label: 'big orders', title: 'Data pattern' } });
    expect(mine?.summary).toBe(`filtered by Big orders ${tag} at big orders: \`data.amount\` 50 is not > 100`);
    expect(explained.summary).toContain('considered this event on webhook');
  });

  it('says a webhook accepts another type than the event’s', async () => {
    const explained = await explainEvent(pool, await seqOf(`refund-${tag}`));
    const mine = explained.decisions.find((d) => d.deploymentId === orders.deploymentId);
    expect(mine?.summary).toBe(`filtered by Big orders ${tag} at Orders webhook: webhook accepts type "${ORDER}", this event is "com.example.refund"`);
  });

  it('says where a delivered event went, and that nothing listened on a channel with no flow', async () => {
    const explained = await explainEvent(pool, await seqOf(`big-1-${tag}`));
    expect(explained.decisions.find((d) => d.deploymentId === orders.deploymentId)?.summary).toBe(`delivered by Big orders ${tag} to Order sink`);
    await undeployAll(pool);
    await waitFor(async () => ((await fetch(`${worker.base}/hooks/${hookPath}`, { method: 'POST', body: '' })).status === 404 ? true : undefined), 10_000, 'undeploy');
    const lonely = `lonely-${tag}`;
    expect((await post(worker.base, '/events', structured({ id: lonely, source: '/t', type: 'com.example.nobody' }))).status).toBe(202);
    expect((await explainEvent(pool, await seqOf(lonely))).summary).toBe('no deployed flow listened on events when this event arrived');
  });

  it('shows a pipeline event as a run: each node in order, the transform’s output, each attempt', async () => {
    const seq = await seqOf(`big-1-${tag}`);
    const run = await getPipelineRun(pool, pipelineRunId(seq, orders.deploymentId));
    expect(run.status).toBe('completed');
    expect(run.nodes.map((n) => [n.task, n.role, n.status])).toEqual([
      ['hook', 'source', 'passed'],
      ['big', 'filter', 'passed'],
      ['stamp', 'transform', 'completed'],
      ['sink', 'target', 'delivered'],
    ]);
    const [hook, , stamp, target] = run.nodes;
    expect(hook!.input).toMatchObject({ id: `big-1-${tag}`, data: { amount: 500 } });
    expect(stamp!.output).toEqual({ orderId: `big-1-${tag}`, amount: 500 });
    expect(target!.attempts).toHaveLength(1);
    expect(target!.attempts[0]).toMatchObject({ attempt: 1, outcome: 'delivered', error: null });
    expect(target!.attempts[0]!.durationMs).toBeGreaterThan(0);

    const small = await getPipelineRun(pool, pipelineRunId(await seqOf(`small-1-${tag}`), orders.deploymentId));
    expect(small.status).toBe('filtered');
    expect(small.nodes.map((n) => n.status)).toEqual(['passed', 'filtered', 'skipped', 'skipped']);
    expect(small.nodes[1]!.reason).toBe('`data.amount` 50 is not > 100');

    const retried = await getPipelineRun(pool, pipelineRunId(await seqOf(`flaky-${tag}`), flaky.deploymentId));
    const attempts = retried.nodes.at(-1)!.attempts;
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'retried'],
      [2, 'delivered'],
    ]);
    expect(attempts[0]!.error).toContain('503');

    // The Runs page lists the delivered event under that id (a wrong-type event is not a run of the flow).
    const runs = (await listRuns(pool, { flowId: orders.flowId })).items;
    expect(runs.map((r) => r.id)).toContain(pipelineRunId(seq, orders.deploymentId));
    expect(runs.some((r) => r.eventId === `refund-${tag}`)).toBe(false);
  });
});
