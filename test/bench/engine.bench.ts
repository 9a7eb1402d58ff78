/**
 * Engine overhead against the same logic written as plain JavaScript. `npm run bench` runs it
 * as a plain-Node bundle (tsx wraps every closure in a `__name` helper, which would inflate
 * per-task cost); by hand:
 *   npx esbuild test/bench/engine.bench.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=node_modules/.cache/meshflow-bench/engine.mjs && node node_modules/.cache/meshflow-bench/engine.mjs
 * A 100-task set/switch workflow and a `for` over 10,000 items, all jq-free (literals and
 * expressions the fast path compiles), with no store and no lifecycle consumer bound. Every
 * contender is warmed for the same time before it is measured, so the figures compare
 * optimised code with optimised code (a worker runs the same definitions all day); each run's
 * start-up (state, abort controller, jq runtime lookup) is included, spread over its tasks.
 * Each figure is the fastest of several rounds: the machine is shared, and noise only slows.
 */
import { Engine } from '@/runtime/engine/engine';
import { createFakePorts } from '@/runtime/engine/testing/fake-ports';
import type { Json, TaskList, WorkflowDocument } from '@/runtime/engine/types';

const header = { dsl: '1.0.0', namespace: 'bench', name: 'bench', version: '1.0.0' };

function setSwitchWorkflow(): WorkflowDocument {
  const tasks: TaskList = [];
  for (let i = 0; i < 50; i++) {
    tasks.push({ [`set${i}`]: { set: { kind: i % 2 === 0 ? 'even' : 'odd', step: i } } });
    tasks.push({ [`switch${i}`]: { switch: [{ even: { when: '.kind == "even"', then: 'continue' } }, { other: { then: 'continue' } }] } });
  }
  return { document: header, do: tasks };
}

function forWorkflow(): WorkflowDocument {
  return { document: header, do: [{ loop: { for: { each: 'item', in: '.items' }, do: [{ keep: { set: { last: '${ $item }' } } }] } }] };
}

function plainSetSwitch(): Json {
  let data: Record<string, Json> = {};
  for (let i = 0; i < 50; i++) {
    data = { kind: i % 2 === 0 ? 'even' : 'odd', step: i };
    if (data.kind === 'even') continue;
  }
  return data;
}

async function plainSetSwitchAsync(): Promise<Json> {
  let data: Record<string, Json> = {};
  const set = async (value: Record<string, Json>) => value;
  const test = async (value: Record<string, Json>) => value.kind === 'even';
  for (let i = 0; i < 50; i++) {
    data = await set({ kind: i % 2 === 0 ? 'even' : 'odd', step: i });
    await test(data);
  }
  return data;
}

function plainFor(items: number[]): Json {
  let data: Json = { items };
  for (const item of items) data = { last: item };
  return data;
}

async function plainForAsync(items: number[]): Promise<Json> {
  let data: Json = { items };
  const set = async (value: Json) => value;
  for (const item of items) data = await set({ last: item });
  return data;
}

const WARM_MS = 1000;
const ROUNDS = 7;
const ROUND_MS = 300;

/**
 * Milliseconds per call of `body`: warmed for WARM_MS, then the fastest of ROUNDS rounds, so
 * other processes on a shared machine disturb the figure as little as possible.
 */
async function time(body: () => unknown): Promise<number> {
  for (const until = performance.now() + WARM_MS; performance.now() < until; ) await body();
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    let runs = 0;
    const started = performance.now();
    while (performance.now() - started < ROUND_MS) {
      await body();
      runs += 1;
    }
    best = Math.min(best, (performance.now() - started) / runs);
  }
  return best;
}

async function main(): Promise<void> {
  const ports = createFakePorts();
  const engine = new Engine({ ports: { clock: ports.clock, timers: ports.timers, ids: ports.ids, http: ports.http, events: ports.events } });
  const setSwitch = setSwitchWorkflow();
  const loop = forWorkflow();
  const items = Array.from({ length: 10_000 }, (_, i) => i);

  const run = async (doc: WorkflowDocument, input: Json) => {
    const result = await engine.start(doc, input).done;
    if (result.status !== 'completed') throw new Error(`bench workflow ${result.status}`);
  };

  const rows: [string, number, number, number, number][] = [];
  const engineSetSwitch = await time(() => run(setSwitch, {}));
  const jsSetSwitch = await time(plainSetSwitch);
  const jsSetSwitchAsync = await time(plainSetSwitchAsync);
  rows.push(['100-task set/switch', 100, engineSetSwitch, jsSetSwitch, jsSetSwitchAsync]);
  const engineFor = await time(() => run(loop, { items }));
  const jsFor = await time(() => plainFor(items));
  const jsForAsync = await time(() => plainForAsync(items));
  // Each iteration runs one task inside the loop.
  rows.push(['for over 10,000 items', 10_000, engineFor, jsFor, jsForAsync]);

  console.log('workload                 per task (engine)   plain JS sync   ratio    plain JS async   ratio');
  for (const [name, tasks, e, js, jsAsync] of rows) {
    const per = (ms: number) => `${((ms / tasks) * 1000).toFixed(3)} µs`;
    console.log(`${name.padEnd(24)} ${per(e).padStart(16)}   ${per(js).padStart(13)}   ${(e / js).toFixed(0).padStart(5)}×   ${per(jsAsync).padStart(14)}   ${(e / jsAsync).toFixed(1).padStart(5)}×`);
  }
}

await main();
