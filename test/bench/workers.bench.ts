/**
 * `npm run bench:workers -- --workers N`: the pipeline bench's flow (webhook → data-pattern
 * filter (70 % pass) → jq transform → HTTP sink on localhost) through N workers sharing one
 * scratch database, autocannon's 50 connections spread over their ingress ports for 15 s; then
 * the same pipeline as a bare in-memory Node.js server. Reports CPU per event of the workers
 * and of PostgreSQL and the mean group-commit size. (`bench:pipeline` measures one worker in
 * depth: alternating rounds, workflow runs, peak RSS.) Every
 * worker acknowledgement comes after its commit. The last line of output is one JSON object.
 * Needs the PostgreSQL of MESHFLOW_TEST_ADMIN_URL (default postgres@127.0.0.1:5432).
 */
import autocannon from 'autocannon';
import { createServer } from 'node:http';
import pg from 'pg';
import { applyMigrations } from '@/prisma/migrator';
import { compile } from '@/runtime/compiler/compile';
import { createScratchDatabase, freePort, waitFor } from '@/test/helpers/databases';
import { startNode, type Running } from '@/test/helpers/processes';
import { deploy } from '@/test/integration/events/helpers';
import { startCpuMeter } from '@/test/bench/cpu';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const adminUrl = process.env.MESHFLOW_TEST_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

interface Sink {
  url: string;
  ids: Set<string>;
  lastAt: number;
  close: () => void;
}

async function startSink(): Promise<Sink> {
  const sink: Sink = { url: '', ids: new Set(), lastAt: 0, close: () => {} };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      sink.ids.add(String(req.headers['ce-id']));
      sink.lastAt = Date.now();
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/sink`;
  sink.close = () => {
    server.closeAllConnections();
    server.close();
  };
  return sink;
}

function pipelineDocument(sinkUrl: string): unknown {
  const nodes = [
    { id: 'hook', kind: 'http-webhook', config: { path: 'bench', mode: 'cloudevents', eventType: 'com.example.bench' } },
    { id: 'passing', kind: 'data-pattern', config: { pattern: { data: { bucket: [{ numeric: ['<', 7] }] } } } },
    { id: 'shape', kind: 'jq-transform', config: { expression: '{ id: .id, bucket: .data.bucket, amount: .data.amount }' } },
    { id: 'sink', kind: 'http-request', config: { method: 'post', url: sinkUrl, body: '.' } },
  ];
  const edges = nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i]!.id, target: n.id }));
  const { document, diagnostics } = compile({ document: { namespace: 'bench', name: 'pipeline', version: '0.1.0' }, nodes, edges });
  if (diagnostics.length > 0) throw new Error(`the bench flow does not compile: ${JSON.stringify(diagnostics)}`);
  return document;
}

interface Figures {
  acceptedPerS: number;
  deliveredPerS: number;
  p50: number;
  p99: number;
  accepted: number;
  shouldDeliver: number;
  delivered: number;
  errors: number;
}

async function load(url: string | string[], run: string, sink: Sink, expected: (accepted: number) => Promise<number>): Promise<Figures> {
  let n = 0;
  const started = Date.now();
  const result = await autocannon({
    // autocannon spreads connections round-robin over several URLs; its types know only one.
    url: url as string,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const i = n++;
          return {
            ...request,
            headers: { 'ce-specversion': '1.0', 'ce-id': `${run}-${i}`, 'ce-source': '/bench', 'ce-type': 'com.example.bench', 'content-type': 'application/json' },
            body: JSON.stringify({ bucket: i % 10, amount: i, note: 'order placed' }),
          };
        },
      },
    ],
  });
  const accepted = result['2xx'];
  const mine = () => [...sink.ids].filter((id) => id.startsWith(`${run}-`)).length;
  // Requests still in flight when autocannon stops may commit after it: wait for them first.
  await new Promise((r) => setTimeout(r, 500));
  let shouldDeliver = await expected(accepted);
  await waitFor(async () => (mine() >= shouldDeliver ? true : undefined), 120_000, 'deliveries to drain').catch(() => undefined);
  shouldDeliver = await expected(accepted);
  const delivered = mine();
  const elapsed = (sink.lastAt - started) / 1000;
  return {
    acceptedPerS: accepted / DURATION_S,
    deliveredPerS: delivered / Math.max(elapsed, DURATION_S),
    p50: result.latency.p50,
    p99: result.latency.p99,
    accepted,
    shouldDeliver,
    delivered,
    errors: result.errors + result.non2xx,
  };
}

const round = (x: number) => Math.round(x * 10) / 10;

/** `--workers N` (1–8, default 1): how many worker processes share the database and the load. */
function workersFlag(argv: string[]): number {
  const at = argv.indexOf('--workers');
  if (at === -1) return 1;
  const n = Number(argv[at + 1]);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`--workers takes a whole number from 1 to 8, not ${argv[at + 1] ?? 'nothing'}`);
  return n;
}

/** Starts `n` workers on the scratch database, each on its own port, and waits for their webhooks; returns their base URLs. */
async function startWorkers(n: number, databaseUrl: string, children: Running[]): Promise<string[]> {
  const bases: string[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    children.push(
      startNode(['runtime/worker/main.ts'], { DATABASE_URL: databaseUrl, WORKER_PORT: String(port), WORKER_HOST: '127.0.0.1', MESHFLOW_WORKER_MIGRATE: 'false', MESHFLOW_WORKER_ID: `bench-${i + 1}` }),
    );
    bases.push(`http://127.0.0.1:${port}`);
  }
  for (const base of bases) {
    await waitFor(async () => ((await fetch(`${base}/hooks/bench`, { method: 'POST' })).status === 415 ? true : undefined), 30_000, `the worker at ${base} and its webhook`);
  }
  return bases;
}

async function main(): Promise<void> {
  const scratch = await createScratchDatabase(adminUrl);
  const sink = await startSink();
  const children: Running[] = [];
  const pool = new pg.Pool({ connectionString: scratch.url });
  try {
    await applyMigrations(scratch.url);
    await deploy(pool, pipelineDocument(sink.url));
    const bases = await startWorkers(workersFlag(process.argv), scratch.url, children);

    process.stdout.write(`meshflow ${bases.length} worker(s): ${CONNECTIONS} connections, ${DURATION_S} s …\n`);
    const cpu = await startCpuMeter(pool, children.map((c) => c.child.pid ?? 0), bases);
    const meshflow = await load(bases.map((base) => `${base}/hooks/bench`), 'mf', sink, async () => {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM event WHERE ingress = 'hook:bench' AND (data->>'bucket')::int < 7`);
      return rows[0]!.n;
    });

    process.stdout.write(await cpu.report(meshflow.accepted));

    const basePort = await freePort();
    const baseline = startNode(['test/bench/pipeline-baseline.ts', String(basePort), sink.url], {});
    children.push(baseline);
    await waitFor(async () => (baseline.output().includes('listening') ? true : undefined), 30_000, 'the baseline server');
    process.stdout.write(`bare in-memory server: ${CONNECTIONS} connections, ${DURATION_S} s …\n`);
    // Ids are numbered in sending order and 7 of every 10 pass; near enough for a server that keeps nothing.
    const bare = await load(`http://127.0.0.1:${basePort}/`, 'bare', sink, async (accepted) => Math.floor(accepted * 0.7) - CONNECTIONS);

    const lost = meshflow.shouldDeliver - meshflow.delivered;
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM event WHERE ingress = 'hook:bench'`);
    const table = [
      ['', 'meshflow', 'bare in-memory', 'ratio'],
      ['accepted/s', round(meshflow.acceptedPerS), round(bare.acceptedPerS), round(meshflow.acceptedPerS / bare.acceptedPerS * 100) / 100],
      ['delivered/s', round(meshflow.deliveredPerS), round(bare.deliveredPerS), round(meshflow.deliveredPerS / bare.deliveredPerS * 100) / 100],
      ['p50 ack ms', meshflow.p50, bare.p50, ''],
      ['p99 ack ms', meshflow.p99, bare.p99, ''],
      ['accepted', meshflow.accepted, bare.accepted, ''],
      ['non-2xx/errors', meshflow.errors, bare.errors, ''],
    ];
    for (const row of table) process.stdout.write(`${row.map((c) => String(c).padStart(16)).join('')}\n`);
    process.stdout.write(`events in the log ${rows[0]!.n}; to deliver after the filter ${meshflow.shouldDeliver}; delivered ${meshflow.delivered}\n`);
    process.stdout.write(
      `${JSON.stringify({
        accepted_per_s: round(meshflow.acceptedPerS),
        delivered_per_s: round(meshflow.deliveredPerS),
        p50_ms: meshflow.p50,
        p99_ms: meshflow.p99,
        lost,
        workers: bases.length,
        baseline_accepted_per_s: round(bare.acceptedPerS),
        baseline_delivered_per_s: round(bare.deliveredPerS),
      })}\n`,
    );
  } finally {
    for (const child of children) await child.stop();
    sink.close();
    await pool.end();
    await scratch.drop();
  }
}

await main();
