/**
 * `meshflow replay --flow <id> --candidate <file|version>`: a dry run of logged events through
 * a candidate (a flow file or DSL document, or a saved version number) and through the live
 * version, on the studio, with every external call stubbed: nothing reaches a target. Prints
 * one JSON line per event — `eventId`, `live`, `candidate` (the requests each version would
 * send) and `changes` (empty when nothing differs) — then a summary line. By default every
 * retained event the flow's sources received; `--since`/`--until`, `--source` (the events of
 * one producer), `--type` and `--limit` narrow it.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { hasErrors } from '../../compiler/diagnostics.ts';
import type { Command } from '../main.ts';
import { describeStudioError, studioClient, studioOptions } from '../studio-client.ts';
import { readFlowFile } from './deploy.ts';

const USAGE =
  'Usage: meshflow replay --flow <flow id> --candidate <flow.json|workflow.yaml|version> [--against <version>] [--since <ISO time>] [--until <ISO time>] [--source <CloudEvents source>] [--type <event type>] [--limit <n>] [--server <studio URL>] [--token <API token>]\n';

/** Events per call to the studio (its own bound). */
const PAGE = 500;

const replay: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        flow: { type: 'string' },
        candidate: { type: 'string' },
        against: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        source: { type: 'string' },
        type: { type: 'string' },
        server: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    io.stderr(`meshflow replay: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help || !v.flow || !v.candidate) {
    io.stderr(v.help ? USAGE : `meshflow replay: ${!v.flow ? '--flow' : '--candidate'} is required\n${USAGE}`);
    return 2;
  }
  const limit = v.limit === undefined ? Infinity : Number(v.limit);
  if (!Number.isInteger(limit) && limit !== Infinity) {
    io.stderr(`meshflow replay: --limit must be a whole number of events, not "${v.limit}"\n`);
    return 2;
  }
  if (limit < 1) {
    io.stderr('meshflow replay: --limit must be at least 1\n');
    return 2;
  }
  for (const [name, value] of [['since', v.since], ['until', v.until]] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) {
      io.stderr(`meshflow replay: --${name} must be an ISO 8601 time such as 2026-12-01T00:00:00Z, not "${value}"\n`);
      return 2;
    }
  }
  const against = v.against === undefined ? undefined : Number(v.against);
  if (against !== undefined && !(Number.isInteger(against) && against > 0)) {
    io.stderr(`meshflow replay: --against must be a version number, not "${v.against}"\n`);
    return 2;
  }
  const options = studioOptions(v);
  if (typeof options === 'string') {
    io.stderr(`meshflow replay: ${options}\n`);
    return 2;
  }
  let candidate: { version: number } | { graph: unknown };
  if (/^v?\d+$/.test(v.candidate)) candidate = { version: Number(v.candidate.replace(/^v/, '')) };
  else {
    let text: string;
    try {
      text = await readFile(v.candidate, 'utf8');
    } catch (error) {
      io.stderr(`meshflow replay: cannot read ${v.candidate}: ${(error as Error).message} (give a flow file, a DSL document or a version number)\n`);
      return 2;
    }
    const read = await readFlowFile(text);
    if (read.graph === undefined || hasErrors(read.diagnostics)) {
      io.stderr(`${read.diagnostics.map((d) => `${v.candidate}: ${d.message}`).join('\n')}\n`);
      return 2;
    }
    candidate = { graph: read.graph };
  }

  const api = studioClient(options);
  const totals = { events: 0, changed: 0, added: 0, removed: 0, changedDeliveries: 0, outcomesChanged: 0, ignored: 0 };
  let after: string | undefined;
  let last: Awaited<ReturnType<typeof api.replay.dryRun.mutate>>['summary'] | undefined;
  try {
    // Page through the selection: the studio bounds each call; --limit bounds the whole.
    for (;;) {
      const left = limit - totals.events;
      const answer = await api.replay.dryRun.mutate({
        flowId: v.flow,
        candidate,
        ...(against !== undefined ? { against } : {}),
        ...(v.since ? { since: new Date(v.since).toISOString() } : {}),
        ...(v.until ? { until: new Date(v.until).toISOString() } : {}),
        ...(v.source ? { source: v.source } : {}),
        ...(v.type ? { type: v.type } : {}),
        limit: Math.min(PAGE, left),
        ...(after ? { after } : {}),
      });
      for (const e of answer.events) {
        io.stdout(`${JSON.stringify({ eventId: e.eventId, seq: e.seq, type: e.type, receivedAt: e.receivedAt, live: e.live, candidate: e.candidate, changes: e.changes })}\n`);
      }
      last = answer.summary;
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += answer.summary[key];
      if (!answer.summary.nextAfter || totals.events >= limit) break;
      after = answer.summary.nextAfter;
    }
  } catch (error) {
    io.stderr(`meshflow replay: ${describeStudioError(error, options.server)}\n`);
    return 1;
  }
  io.stdout(
    `${JSON.stringify({
      summary: true,
      flowId: v.flow,
      live: last?.live,
      candidate: last?.candidate,
      ...totals,
      more: Boolean(last?.nextAfter),
      retentionHours: last?.retentionHours,
    })}\n`,
  );
  return 0;
};

export default replay;
