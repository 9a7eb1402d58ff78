/**
 * `meshflow test <path…>`: runs flow tests in this process (no studio, no database, nothing
 * sent) and exits non-zero when one fails, with a readable difference. A test file sits beside
 * its flow as `<flow>.test.yaml`; a directory stands for every such file inside it.
 *
 * ```yaml
 * flow: orders.flow.json        # optional: by default <flow>.flow.json, <flow>.json, <flow>.yaml … beside it
 * cases:
 *   - name: a big order goes to the shop
 *     event: { specversion: "1.0", id: "1", source: /shop, type: com.example.order, data: { amount: 150 } }
 *     stubs:                     # optional: what a node's calls answer (default 200 and an echo)
 *       deliver: { status: 200, body: { ok: true } }
 *     secrets: { SHOP_TOKEN: test-token }   # optional: $secrets for this case
 *     expect:
 *       outcome: delivered       # delivered | nothing sent | filtered | faulted
 *       deliveries:              # every request, in order; only the fields given are compared
 *         - { node: deliver, method: POST, url: http://127.0.0.1:9/orders, body: { data: { amount: 150 } } }
 * ```
 *
 * Every external call answers with a stub; objects in an expectation match when the actual
 * value has at least the fields given (with equal values), arrays and everything else must be equal.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { compile } from '../../compiler/compile.ts';
import { formatDiagnostic, hasErrors } from '../../compiler/diagnostics.ts';
import type { Json, WorkflowDocument } from '../../engine/types.ts';
import { dryRun, sideOf, type StubResponse } from '../../events/dry-run.ts';
import type { Command, CommandIo } from '../main.ts';
import { readFlowFile } from './deploy.ts';

const USAGE = 'Usage: meshflow test <flow.test.yaml | directory>…\n';
const SUFFIX = '.test.yaml';
const FLOW_FILES = ['.flow.json', '.json', '.flow.yaml', '.yaml', '.yml'];

const caseSchema = z.object({
  name: z.string().min(1, 'each case needs a name'),
  event: z.record(z.string(), z.unknown()),
  stubs: z.record(z.string(), z.object({ status: z.number().int().min(100).max(599).optional(), body: z.unknown().optional() })).optional(),
  secrets: z.record(z.string(), z.unknown()).optional(),
  expect: z
    .object({
      outcome: z.enum(['delivered', 'nothing sent', 'filtered', 'faulted']).optional(),
      deliveries: z.array(z.record(z.string(), z.unknown())).optional(),
    })
    .refine((e) => e.outcome !== undefined || e.deliveries !== undefined, 'expect an outcome, deliveries, or both'),
});

export const testFileSchema = z.object({
  flow: z.string().min(1).optional(),
  cases: z.array(caseSchema).min(1, 'a test file needs at least one case'),
});

export type FlowTestFile = z.infer<typeof testFileSchema>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** Where `actual` falls short of `expected`: objects as subsets, everything else equal. */
export function mismatches(expected: unknown, actual: unknown, path: string): string[] {
  if (isObj(expected)) {
    if (!isObj(actual)) return [`${path}: expected an object ${show(expected)}, got ${show(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) => mismatches(v, actual[k], `${path}.${k}`));
  }
  return JSON.stringify(expected) === JSON.stringify(actual) ? [] : [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

async function testFilesIn(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(SUFFIX))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function flowFileOf(testFile: string, named: string | undefined): Promise<string> {
  if (named) return resolve(dirname(testFile), named);
  const stem = basename(testFile).slice(0, -SUFFIX.length);
  for (const ext of FLOW_FILES) {
    const candidate = join(dirname(testFile), `${stem}${ext}`);
    if (await stat(candidate).then((s) => s.isFile(), () => false)) return candidate;
  }
  throw new Error(`no flow beside it: name one with \`flow:\`, or put ${stem}${FLOW_FILES[0]} next to it`);
}

interface FileResult {
  passed: number;
  failed: number;
}

async function runFile(file: string, io: CommandIo): Promise<FileResult> {
  let spec: FlowTestFile;
  try {
    if (!file.endsWith(SUFFIX)) throw new Error(`a flow test file's name ends in ${SUFFIX}`);
    const parsed = testFileSchema.safeParse(parseYaml(await readFile(file, 'utf8')));
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '));
    spec = parsed.data;
  } catch (error) {
    io.stdout(`✗ ${file}: ${(error as Error).message}\n`);
    return { passed: 0, failed: 1 };
  }
  let document: WorkflowDocument;
  let nodeIds: Set<string>;
  try {
    const flowFile = await flowFileOf(file, spec.flow);
    const read = await readFlowFile(await readFile(flowFile, 'utf8'));
    const compiled = read.graph === undefined ? undefined : compile(read.graph);
    const diagnostics = [...read.diagnostics, ...(compiled?.diagnostics ?? [])];
    if (!compiled?.document || hasErrors(diagnostics)) throw new Error(`${flowFile} does not compile: ${diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('; ')}`);
    document = compiled.document as unknown as WorkflowDocument;
    nodeIds = new Set(((read.graph as { nodes?: { id?: unknown }[] }).nodes ?? []).map((n) => String(n.id)));
  } catch (error) {
    io.stdout(`✗ ${file}: ${(error as Error).message}\n`);
    return { passed: 0, failed: spec.cases.length };
  }
  const result: FileResult = { passed: 0, failed: 0 };
  for (const c of spec.cases) {
    const stubs = c.stubs ?? {};
    const run = await dryRun(document, c.event, {
      nodeIds,
      stubResponse: (node) => (node === undefined ? undefined : (stubs[node] as StubResponse | undefined)),
      secrets: { resolve: async (names) => Object.fromEntries(names.filter((n) => c.secrets && n in c.secrets).map((n) => [n, c.secrets![n] as Json])) },
      timeoutMs: 15_000,
    });
    const side = sideOf(run);
    const problems: string[] = [];
    if (c.expect.outcome !== undefined && c.expect.outcome !== side.outcome) {
      problems.push(`outcome: expected ${c.expect.outcome}, got ${side.outcome}${side.reason ? ` (${side.reason})` : ''}`);
    }
    if (c.expect.deliveries) {
      const expected = c.expect.deliveries;
      if (expected.length !== side.requests.length) {
        problems.push(`deliveries: expected ${expected.length}, got ${side.requests.length}${side.requests.length > 0 ? `: ${side.requests.map((r) => `${r.method} ${r.url} (${r.node})`).join(', ')}` : ''}`);
      }
      expected.forEach((e, i) => {
        const actual = side.requests[i];
        if (actual) problems.push(...mismatches(e, actual, `deliveries[${i}]`));
      });
    }
    if (problems.length === 0) {
      result.passed += 1;
      io.stdout(`✓ ${file} › ${c.name}\n`);
    } else {
      result.failed += 1;
      io.stdout(`✗ ${file} › ${c.name}\n${problems.map((p) => `    ${p}`).join('\n')}\n`);
    }
  }
  return result;
}

const test: Command = async (args, io) => {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    io.stderr(USAGE);
    return 2;
  }
  const files: string[] = [];
  for (const path of args) {
    try {
      files.push(...(await testFilesIn(path)));
    } catch (error) {
      io.stderr(`meshflow test: cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}\n`);
      return 2;
    }
  }
  if (files.length === 0) {
    io.stderr(`meshflow test: no *${SUFFIX} files in ${args.join(', ')}\n`);
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const r = await runFile(file, io);
    passed += r.passed;
    failed += r.failed;
  }
  io.stdout(`\n${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
};

export default test;
