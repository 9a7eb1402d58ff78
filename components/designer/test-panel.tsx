'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { ErrorState } from '@/components/ui/states';
import { useDesigner, useDesignerStore } from './designer-provider';
import { download } from './flow-file';
import { outcomeOf, testFileText } from './flow-test-file';
import type { NodeRunResult } from './store';

/** Runs the unsaved flow in the engine on a sample event; each node then shows what it did. */
export function TestPanel({ canRun, flowFileName = 'flow' }: { canRun: boolean; flowFileName?: string }) {
  const trpc = useTRPC();
  const store = useDesignerStore();
  const results = useDesigner((s) => s.runResults);
  const samples = useQuery(trpc.designer.sampleEvents.queryOptions());
  const text = useDesigner((s) => s.sampleText);
  const setText = (value: string) => store.getState().setSampleText(value);
  const [parseError, setParseError] = useState<string>();
  const [callRealTargets, setCallRealTargets] = useState(false);
  const [ranEvent, setRanEvent] = useState<unknown>();
  const run = useMutation(
    trpc.designer.testRun.mutationOptions({
      onSuccess: (result) => store.getState().setRunResults(result.ok ? (result.nodes as Record<string, NodeRunResult>) : {}),
    }),
  );

  const start = () => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(text) as Record<string, unknown>;
      setParseError(undefined);
    } catch (error) {
      setParseError(`The sample event is not valid JSON: ${(error as Error).message}`);
      return;
    }
    const s = store.getState();
    setRanEvent(event);
    run.mutate({ graph: s.graph(), event, stubs: s.stubbed, callRealTargets });
  };

  /** "Pin it": this run's event and what it would send, as a `meshflow test` case. */
  const pin = () => {
    if (!run.data?.ok) return;
    const deliveries = Object.entries(results).flatMap(([node, r]) => (r.requests ?? []).map((q) => ({ node, method: q.method, url: q.url, body: q.body })));
    const name = `test run of ${String((ranEvent as { id?: unknown } | undefined)?.id ?? 'an event')}`;
    download(`${flowFileName}.test.yaml`, testFileText(`${flowFileName}.flow.json`, [{ name, event: ranEvent, outcome: outcomeOf(run.data.status, deliveries.length), deliveries }]), 'application/yaml');
  };

  return (
    <div className="space-y-3 p-3 text-sm">
      {samples.data && samples.data.length > 0 ? (
        <div className="space-y-1">
          <label htmlFor="sample-pick" className="block text-xs font-medium text-slate-700 dark:text-slate-200">
            Sample from the catalog
          </label>
          <select
            id="sample-pick"
            defaultValue=""
            onChange={(e) => {
              const sample = samples.data.find((x) => x.key === e.target.value);
              if (sample) setText(JSON.stringify(sample.event, null, 2));
            }}
            className="block w-full rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-600 dark:bg-slate-900"
          >
            <option value="">Typed by hand</option>
            {samples.data.map((s) => (
              <option key={s.key} value={s.key}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <div className="space-y-1">
        <label htmlFor="sample-event" className="block text-xs font-medium text-slate-700 dark:text-slate-200">
          Sample event (CloudEvent JSON)
        </label>
        <textarea
          id="sample-event"
          rows={9}
          value={text}
          spellCheck={false}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={parseError ? true : undefined}
          className="block w-full rounded-md border border-slate-300 bg-white px-2 py-1 font-mono text-xs dark:border-slate-600 dark:bg-slate-900"
        />
      </div>
      {parseError ? <ErrorState message={parseError} /> : null}
      <div className="flex items-start gap-2 text-xs">
        <input id="call-real-targets" type="checkbox" className="mt-0.5" checked={callRealTargets} onChange={(e) => setCallRealTargets(e.target.checked)} />
        <label htmlFor="call-real-targets" className="text-slate-700 dark:text-slate-200">
          Call real targets
          <span className="block text-slate-500 dark:text-slate-400">
            {callRealTargets ? 'HTTP calls and broker publishes go out for real (except nodes set to stub).' : 'Off: HTTP calls and broker publishes are stubbed; each shows the request it would send.'}
          </span>
        </label>
      </div>
      <Button type="button" disabled={!canRun || run.isPending} onClick={start}>
        {run.isPending ? 'Running…' : 'Run test'}
      </Button>
      {run.error ? <ErrorState message={run.error.message} /> : null}
      {run.data && !run.data.ok ? <ErrorState message={`The flow does not compile: ${run.data.diagnostics.map((d) => d.message).join('; ')}`} /> : null}
      {run.data?.ok ? (
        <div role="status" className="space-y-2">
          <div className="flex items-center justify-between gap-2">
            <p className="font-medium" data-testid="test-run-status">
              Run {run.data.status}
            </p>
            <Button type="button" variant="secondary" className="px-2 py-0.5 text-xs" onClick={pin} title="Download this run as a meshflow test case (.test.yaml)">
              Save as test
            </Button>
          </div>
          {run.data.filtered ? (
            <p className="text-xs text-amber-800 dark:text-amber-200" data-testid="test-run-filtered">
              The source would not take this event: {run.data.filtered.reason}
            </p>
          ) : null}
          <ul aria-label="Test run by node" className="space-y-2">
            {Object.entries(results).map(([nodeId, r]) => (
              <li key={nodeId} className="rounded border border-slate-200 p-2 dark:border-slate-700">
                <div className="font-mono text-xs">
                  {nodeId}: {r.status}
                </div>
                {r.output !== undefined ? <pre tabIndex={0} className="overflow-auto font-mono text-xs">{JSON.stringify(r.output)}</pre> : null}
                {r.error ? <p className={`text-xs ${r.status === 'filtered' ? 'text-amber-800 dark:text-amber-200' : 'text-rose-700 dark:text-rose-300'}`}>{r.error.detail ?? r.error.title}</p> : null}
                {r.requests?.map((q, i) => (
                  <div key={i} className="mt-1 rounded bg-sky-50 p-1 dark:bg-sky-950" aria-label={`Request ${nodeId} would send`}>
                    <div className="font-mono text-xs font-medium">
                      Not sent: {q.method} {q.url}
                    </div>
                    <pre tabIndex={0} className="overflow-auto font-mono text-xs">{JSON.stringify({ headers: q.headers, body: q.body }, null, 2)}</pre>
                  </div>
                ))}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
