/**
 * Engine overhead against the same logic written as plain JavaScript:
 *   npx tsx test/bench/engine.bench.ts
 * tsx wraps every closure in a `__name` helper, which inflates per-task cost; for the engine's
 * own figure run a plain-Node bundle:
 *   npx esbuild test/bench/engine.bench.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=node_modules/.cache/meshflow-bench/engine.mjs && node node_modules/.cache/meshflow-bench/engine.mjs
 * A 100-task set/switch workflow and a `for` over 10,000 items, all jq-free (literals and
 * expressions the fast path compiles), with no store and no lifecycle consumer bound.
 */
import { Engine } from '../../runtime/engine/engine.ts';
import { createFakePorts } from '../../runtime/engine/testing/fake-ports.ts';
import type { Json, TaskList, WorkflowDocument } from '../../runtime/engine/types.ts';

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

async function time(runs: number, body: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(5, runs); i++) await body();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await body();
  const ms = (performance.now() - started) / runs;
  return ms;
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
  const engineSetSwitch = await time(300, () => run(setSwitch, {}));
  const jsSetSwitch = await time(20_000, plainSetSwitch);
  const jsSetSwitchAsync = await time(20_000, plainSetSwitchAsync);
  rows.push(['100-task set/switch', 100, engineSetSwitch, jsSetSwitch, jsSetSwitchAsync]);
  const engineFor = await time(5, () => run(loop, { items }));
  const jsFor = await time(200, () => plainFor(items));
  const jsForAsync = await time(50, () => plainForAsync(items));
  // Each iteration runs one task inside the loop.
  rows.push(['for over 10,000 items', 10_000, engineFor, jsFor, jsForAsync]);

  console.log('workload                 per task (engine)   plain JS sync   ratio    plain JS async   ratio');
  for (const [name, tasks, e, js, jsAsync] of rows) {
    const per = (ms: number) => `${((ms / tasks) * 1000).toFixed(3)} µs`;
    console.log(`${name.padEnd(24)} ${per(e).padStart(16)}   ${per(js).padStart(13)}   ${(e / js).toFixed(0).padStart(5)}×   ${per(jsAsync).padStart(14)}   ${(e / jsAsync).toFixed(1).padStart(5)}×`);
  }
}

await main();
