/**
 * `npm run bench:pipeline [-- --backend postgres|jetstream] [-- --workers N]`: webhook →
 * data-pattern filter (70 % pass) → jq transform → HTTP sink on localhost, through N real
 * workers (default 1) on a scratch database, autocannon's 50 connections spread over their
 * ingress ports for 15 s; with `--backend jetstream` the event log and the deliveries go
 * through the NATS JetStream of MESHFLOW_NATS_URL (default nats://127.0.0.1:4222, streams
 * under a scratch prefix, file storage); the same flow as a workflow (schedule.on + `call: http`, one engine run
 * per event) through the same worker; and the pipeline as a bare in-memory Node.js server.
 * BENCH_ROUNDS rounds (default 3) alternate the three; figures are medians. Every worker
 * acknowledgement comes after its commit. Besides throughput and latency it reports the CPU
 * time per 1,000 accepted events of the workers, of their database backends and (when it runs
 * on this machine) of nats-server (from /proc/<pid>/stat, sampled until the deliveries have
 * drained) and the workers' peak RSS. The last
 * line of output is one JSON object.
 * Needs the PostgreSQL of MESHFLOW_TEST_ADMIN_URL (default postgres@127.0.0.1:5432), on this
 * machine (its backends' CPU is read from /proc). BENCH_CPU_PROF=<dir> writes worker CPU profiles.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { applyMigrations } from '@/prisma/migrator';
import { compile } from '@/runtime/compiler/compile';
import { deleteStreams } from '@/runtime/events/jetstream/streams';
import { createScratchDatabase, freePort, waitFor } from '@/test/helpers/databases';
import { repoRoot, startNode, type Running } from '@/test/helpers/processes';
import { deploy } from '@/test/integration/events/helpers';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'pipeline,workflow,bare').split(',');
const adminUrl = process.env.MESHFLOW_TEST_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const TICK_MS = 1000 / 100; // USER_HZ: 100 on Linux
const NATS_URL = process.env.MESHFLOW_NATS_URL ?? 'nats://127.0.0.1:4222';

/** `--workers N` (1–8, default 1) and `--backend postgres|jetstream` (default postgres). */
function flags(argv: string[]): { workers: number; backend: 'postgres' | 'jetstream' } {
  const value = (name: string) => {
    const at = argv.indexOf(name);
    return at === -1 ? undefined : (argv[at + 1] ?? '');
  };
  const workers = Number(value('--workers') ?? 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 8) throw new Error(`--workers takes a whole number from 1 to 8, not ${value('--workers')}`);
  const backend = value('--backend') ?? 'postgres';
  if (backend !== 'postgres' && backend !== 'jetstream') throw new Error(`--backend takes postgres or jetstream, not ${backend}`);
  return { workers, backend };
}

/** The nats-server processes of this machine (JetStream's own CPU), if any. */
function natsServerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'nats-server') pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

interface Sink {
  url: string;
  ids: Set<string>;
  lastAt: number;
  close: () => void;
}

/** Counts each delivered event once, by its `ce-id` header or else the `id` of its JSON body. */
async function startSink(): Promise<Sink> {
  const sink: Sink = { url: '', ids: new Set(), lastAt: 0, close: () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let id = req.headers['ce-id'];
      if (typeof id !== 'string') {
        try {
          id = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown }).id);
        } catch {
          id = 'unreadable';
        }
      }
      sink.ids.add(id);
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

/** The same flow for the workflow engine: a run per event of the type, the filter an `if`, the reshape the call's body. */
function workflowDocument(sinkUrl: string): unknown {
  return {
    document: { dsl: '1.0.0', namespace: 'bench', name: 'workflow', version: '0.1.0' },
    schedule: { on: { one: { with: { type: 'com.example.bench.workflow' } } } },
    do: [
      {
        send: {
          if: '${ .data.bucket < 7 }',
          call: 'http',
          with: { method: 'post', endpoint: sinkUrl, body: '${ { id: .id, bucket: .data.bucket, amount: .data.amount } }' },
        },
      },
    ],
  };
}

/** CPU ticks (user + system) of a process, or undefined once it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function peakRssMb(pid: number): number {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return hwm ? Math.round(Number(hwm[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples the CPU of a set of processes until stopped: `pids()` is asked each time (database
 * backends come and go); a process first seen after the start counts from zero.
 */
function cpuMeter(pids: () => Promise<number[]>): { stop: () => Promise<number> } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let stopped = false;
  const sample = async () => {
    for (const pid of await pids().catch(() => [])) {
      const ticks = cpuTicks(pid);
      if (ticks === undefined) continue;
      if (!first.has(pid)) first.set(pid, started ? 0 : ticks);
      last.set(pid, ticks);
    }
  };
  let started = false;
  const loop = (async () => {
    await sample();
    started = true;
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 200));
      await sample();
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await sample();
      let ticks = 0;
      for (const [pid, value] of last) ticks += value - (first.get(pid) ?? 0);
      return ticks * TICK_MS;
    },
  };
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
  /** CPU ms per 1,000 accepted events, from the start of the load until the deliveries drained. */
  cpuPer1k: number;
  dbCpuPer1k: number;
  /** nats-server's CPU per 1,000 accepted events (JetStream backend, server on this machine). */
  natsCpuPer1k: number;
  /** The load generator's own event-loop delay (p99 ms): when high, latency figures include the bench's own stalls. */
  benchLoopP99: number;
  /** Events per event-log group commit (appends; from the workers' /metrics), 0 when not read. */
  eventsPerCommit: number;
}

interface Target {
  /** Several: autocannon spreads its connections round-robin over them. */
  url: string | string[];
  headers: (i: number, run: string) => Record<string, string>;
  pids: number[];
  dbPids?: () => Promise<number[]>;
  natsPids?: number[];
  /** Group commits and the events they held so far, summed over the workers. */
  commits?: () => Promise<{ commits: number; events: number }>;
}

/** The workers' event-log group commits so far, from the histogram each one's /metrics exposes. */
function commitsOf(bases: string[]): () => Promise<{ commits: number; events: number }> {
  return async () => {
    let commits = 0;
    let events = 0;
    for (const base of bases) {
      const text = await (await fetch(`${base}/metrics`)).text();
      commits += Number(/^meshflow_event_log_commit_batch_size_count (\S+)$/m.exec(text)?.[1] ?? 0);
      events += Number(/^meshflow_event_log_commit_batch_size_sum (\S+)$/m.exec(text)?.[1] ?? 0);
    }
    return { commits, events };
  };
}

async function load(target: Target, run: string, sink: Sink, expected: (accepted: number) => Promise<number>): Promise<Figures> {
  let n = 0;
  const started = Date.now();
  const cpu = cpuMeter(async () => target.pids);
  const dbCpu = target.dbPids ? cpuMeter(target.dbPids) : undefined;
  const natsCpu = target.natsPids?.length ? cpuMeter(async () => target.natsPids!) : undefined;
  const commitsBefore = await target.commits?.();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const result = await autocannon({
    // autocannon takes a list of URLs too; its types know only one.
    url: target.url as string,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const i = n++;
          return { ...request, headers: target.headers(i, run), body: JSON.stringify({ bucket: i % 10, amount: i, note: 'order placed' }) };
        },
      },
    ],
  });
  loopDelay.disable();
  const accepted = result['2xx'];
  const mine = () => [...sink.ids].filter((id) => id.startsWith(`${run}-`)).length;
  // Requests still in flight when autocannon stops may commit after it: wait for them first.
  await new Promise((r) => setTimeout(r, 500));
  let shouldDeliver = await expected(accepted);
  await waitFor(async () => (mine() >= shouldDeliver ? true : undefined), 180_000, 'deliveries to drain').catch(() => undefined);
  shouldDeliver = await expected(accepted);
  const delivered = mine();
  const elapsed = (sink.lastAt - started) / 1000;
  const cpuMs = await cpu.stop();
  const dbMs = (await dbCpu?.stop()) ?? 0;
  const natsMs = (await natsCpu?.stop()) ?? 0;
  const commitsAfter = await target.commits?.();
  const commits = commitsBefore && commitsAfter ? commitsAfter.commits - commitsBefore.commits : 0;
  return {
    eventsPerCommit: commits > 0 ? (commitsAfter!.events - commitsBefore!.events) / commits : 0,
    acceptedPerS: accepted / DURATION_S,
    deliveredPerS: delivered / Math.max(elapsed, DURATION_S),
    p50: result.latency.p50,
    p99: result.latency.p99,
    accepted,
    shouldDeliver,
    delivered,
    errors: result.errors + result.non2xx,
    cpuPer1k: (cpuMs / Math.max(accepted, 1)) * 1000,
    dbCpuPer1k: (dbMs / Math.max(accepted, 1)) * 1000,
    natsCpuPer1k: (natsMs / Math.max(accepted, 1)) * 1000,
    benchLoopP99: loopDelay.percentile(99) / 1e6,
  };
}

const round = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
function medians(all: Figures[]): Figures {
  const out = {} as Record<string, number>;
  for (const key of Object.keys(all[0]!) as (keyof Figures)[]) out[key] = median(all.map((f) => f[key]));
  // Lost events add up over the rounds rather than taking a median.
  out.shouldDeliver = all.reduce((a, f) => a + f.shouldDeliver, 0);
  out.delivered = all.reduce((a, f) => a + f.delivered, 0);
  return out as unknown as Figures;
}

/** The worker as it ships, compiled (scripts/build-cli.mjs); BENCH_WORKER=tsx runs its TypeScript through tsx instead. */
async function startWorker(nodeArgs: string[], env: Record<string, string>): Promise<Running> {
  let built: string | undefined;
  if (process.env.BENCH_WORKER !== 'tsx') {
    // @ts-expect-error: a plain .mjs script without type declarations
    const { ensureBuild } = (await import('@/scripts/build-cli.mjs')) as { ensureBuild: (target: string) => Promise<string | undefined> };
    built = await ensureBuild('worker');
  }
  if (!built) return startNode([...nodeArgs, 'runtime/worker/main.ts'], env);
  const child = spawn(process.execPath, [...nodeArgs, built], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

function binaryHeaders(type: string) {
  return (i: number, run: string) => ({ 'ce-specversion': '1.0', 'ce-id': `${run}-${i}`, 'ce-source': '/bench', 'ce-type': type, 'content-type': 'application/json' });
}

async function main(): Promise<void> {
  const { workers: workerCount, backend } = flags(process.argv);
  const prefix = `BENCH_${randomUUID().slice(0, 8)}`;
  const scratch = await createScratchDatabase(adminUrl);
  const sink = await startSink();
  const children: Running[] = [];
  const pool = new pg.Pool({ connectionString: scratch.url, max: 2, application_name: 'meshflow-bench' });
  try {
    await applyMigrations(scratch.url);
    await deploy(pool, pipelineDocument(sink.url));
    await deploy(pool, workflowDocument(sink.url));
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const backendEnv: Record<string, string> = backend === 'jetstream' ? { MESHFLOW_EVENT_BACKEND: 'jetstream', MESHFLOW_NATS_URL: NATS_URL, MESHFLOW_JETSTREAM_PREFIX: prefix } : {};
    const workers: Running[] = [];
    const bases: string[] = [];
    for (let i = 0; i < workerCount; i++) {
      const port = await freePort();
      const worker = await startWorker(profile, { ...backendEnv, DATABASE_URL: scratch.url, WORKER_PORT: String(port), WORKER_HOST: '127.0.0.1', MESHFLOW_WORKER_MIGRATE: 'false', MESHFLOW_WORKER_ID: `bench-${i + 1}` });
      children.push(worker);
      workers.push(worker);
      const base = `http://127.0.0.1:${port}`;
      bases.push(base);
      // One at a time: on JetStream the first creates the streams the others find.
      await waitFor(async () => ((await fetch(`${base}/hooks/bench`, { method: 'POST' })).status === 415 ? true : undefined), 30_000, `the worker at ${base} and its webhook`);
    }
    const workerPids = workers.map((w) => w.child.pid!);
    const natsPids = backend === 'jetstream' ? natsServerPids() : [];
    /** What the run should deliver, once the event table holds its accepted events (on JetStream it is written just after). */
    const toDeliver = (ingress: string, run: string) => async (accepted: number) => {
      const count = async (passing: boolean) =>
        (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM event WHERE ingress = $1 AND id LIKE $2 AND ($3 OR (data->>'bucket')::int < 7)`, [ingress, `${run}-%`, !passing])).rows[0]!.n;
      await waitFor(async () => ((await count(false)) >= accepted ? true : undefined), 60_000, 'the accepted events in the event table').catch(() => undefined);
      return count(true);
    };
    // The worker's backends: every connection to the scratch database but the bench's own.
    const dbPids = async () => {
      const { rows } = await pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'meshflow-bench'`,
      );
      return rows.map((r) => r.pid);
    };

    const basePort = await freePort();
    const baseline = startNode(['test/bench/pipeline-baseline.ts', String(basePort), sink.url], {});
    children.push(baseline);
    await waitFor(async () => (baseline.output().includes('listening') ? true : undefined), 30_000, 'the baseline server');

    const results: Record<string, Figures[]> = { pipeline: [], workflow: [], bare: [] };
    for (let r = 1; r <= ROUNDS; r++) {
      if (SCENARIOS.includes('pipeline')) {
        process.stdout.write(`round ${r}: meshflow pipeline on ${backend}, ${workerCount} worker(s), ${CONNECTIONS} connections, ${DURATION_S} s …\n`);
        results.pipeline!.push(
          await load({ url: bases.map((b) => `${b}/hooks/bench`), headers: binaryHeaders('com.example.bench'), pids: workerPids, dbPids, natsPids, commits: commitsOf(bases) }, `mf${r}`, sink, toDeliver('hook:bench', `mf${r}`)),
        );
      }
      if (SCENARIOS.includes('workflow')) {
        process.stdout.write(`round ${r}: meshflow workflow runs, ${CONNECTIONS} connections, ${DURATION_S} s …\n`);
        results.workflow!.push(
          await load({ url: bases.map((b) => `${b}/events`), headers: binaryHeaders('com.example.bench.workflow'), pids: workerPids, dbPids, natsPids }, `wf${r}`, sink, toDeliver('events', `wf${r}`)),
        );
      }
      if (SCENARIOS.includes('bare')) {
        process.stdout.write(`round ${r}: bare in-memory server, ${CONNECTIONS} connections, ${DURATION_S} s …\n`);
        // Ids are numbered in sending order and 7 of every 10 pass; near enough for a server that keeps nothing.
        results.bare!.push(
          await load({ url: `http://127.0.0.1:${basePort}/`, headers: binaryHeaders('com.example.bench'), pids: [baseline.child.pid!] }, `bare${r}`, sink, async (accepted) => Math.floor(accepted * 0.7) - CONNECTIONS),
        );
      }
    }
    // The largest of the workers.
    const workerRss = Math.max(...workerPids.map(peakRssMb));
    const bareRss = peakRssMb(baseline.child.pid!);
    const empty: Figures = { acceptedPerS: 0, deliveredPerS: 0, p50: 0, p99: 0, accepted: 0, shouldDeliver: 0, delivered: 0, errors: 0, cpuPer1k: 0, dbCpuPer1k: 0, natsCpuPer1k: 0, benchLoopP99: 0, eventsPerCommit: 0 };
    const mf = results.pipeline!.length ? medians(results.pipeline!) : empty;
    const wf = results.workflow!.length ? medians(results.workflow!) : empty;
    const bare = results.bare!.length ? medians(results.bare!) : empty;
    const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : '');
    const table = [
      ['', 'pipeline', 'workflow runs', 'bare in-memory', 'pipeline/bare'],
      ['accepted/s', round(mf.acceptedPerS), round(wf.acceptedPerS), round(bare.acceptedPerS), ratio(mf.acceptedPerS, bare.acceptedPerS)],
      ['delivered/s', round(mf.deliveredPerS), round(wf.deliveredPerS), round(bare.deliveredPerS), ratio(mf.deliveredPerS, bare.deliveredPerS)],
      ['p50 ack ms', mf.p50, wf.p50, bare.p50, ''],
      ['p99 ack ms', mf.p99, wf.p99, bare.p99, ''],
      ['worker CPU ms/1k', round(mf.cpuPer1k), round(wf.cpuPer1k), round(bare.cpuPer1k), ratio(mf.cpuPer1k, bare.cpuPer1k)],
      ['DB CPU ms/1k', round(mf.dbCpuPer1k), round(wf.dbCpuPer1k), '', ''],
      ['NATS CPU ms/1k', round(mf.natsCpuPer1k), round(wf.natsCpuPer1k), '', ''],
      [
        'total CPU ms/1k',
        round(mf.cpuPer1k + mf.dbCpuPer1k + mf.natsCpuPer1k),
        round(wf.cpuPer1k + wf.dbCpuPer1k + wf.natsCpuPer1k),
        round(bare.cpuPer1k),
        ratio(mf.cpuPer1k + mf.dbCpuPer1k + mf.natsCpuPer1k, bare.cpuPer1k),
      ],
      ['accepted', mf.accepted, wf.accepted, bare.accepted, ''],
      ['to deliver (sum)', mf.shouldDeliver, wf.shouldDeliver, '', ''],
      ['delivered (sum)', mf.delivered, wf.delivered, '', ''],
      ['non-2xx/errors', mf.errors, wf.errors, bare.errors, ''],
      ['bench loop p99 ms', round(mf.benchLoopP99), round(wf.benchLoopP99), round(bare.benchLoopP99), ''],
      ['events per commit', round(mf.eventsPerCommit), '', '', ''],
    ];
    process.stdout.write(`${backend}, ${workerCount} worker(s); medians of ${ROUNDS} round(s); CPU per 1,000 accepted events until drained\n`);
    for (const row of table) process.stdout.write(`${row.map((c, i) => String(c).padStart(i === 0 ? 18 : 16)).join('')}\n`);
    process.stdout.write(`peak RSS: worker ${workerRss} MB (the largest), bare server ${bareRss} MB\n`);
    process.stdout.write(
      `${JSON.stringify({
        backend,
        workers: workerCount,
        accepted_per_s: round(mf.acceptedPerS),
        delivered_per_s: round(mf.deliveredPerS),
        p50_ms: mf.p50,
        p99_ms: mf.p99,
        lost: mf.shouldDeliver - mf.delivered,
        worker_cpu_ms_per_1k: round(mf.cpuPer1k),
        db_cpu_ms_per_1k: round(mf.dbCpuPer1k),
        events_per_commit: round(mf.eventsPerCommit),
        nats_cpu_ms_per_1k: round(mf.natsCpuPer1k),
        workflow_accepted_per_s: round(wf.acceptedPerS),
        workflow_delivered_per_s: round(wf.deliveredPerS),
        workflow_p99_ms: wf.p99,
        workflow_lost: wf.shouldDeliver - wf.delivered,
        workflow_worker_cpu_ms_per_1k: round(wf.cpuPer1k),
        workflow_db_cpu_ms_per_1k: round(wf.dbCpuPer1k),
        worker_peak_rss_mb: workerRss,
        baseline_accepted_per_s: round(bare.acceptedPerS),
        baseline_delivered_per_s: round(bare.deliveredPerS),
        baseline_p99_ms: bare.p99,
        baseline_cpu_ms_per_1k: round(bare.cpuPer1k),
        baseline_peak_rss_mb: bareRss,
        rounds: ROUNDS,
      })}\n`,
    );
  } finally {
    for (const child of children) await child.stop();
    sink.close();
    await pool.end();
    await scratch.drop();
    if (backend === 'jetstream') {
      const nc = await connect({ servers: NATS_URL.replace(/^nats:\/\//, '') });
      await deleteStreams(await jetstreamManager(nc), prefix).finally(() => nc.close());
    }
  }
}

await main();
