'use client';

import { useState, type ReactNode } from 'react';
import { Inspector } from './inspector';
import { ProblemsList } from './problems-list';
import { ReplayPanel } from './replay-panel';
import { TestPanel } from './test-panel';
import type { FlowWorkspace } from './use-flow-workspace';
import { VersionsPanel } from './versions-panel';
import { YamlPanel } from './yaml-panel';

type Tab = 'inspector' | 'test' | 'replay' | 'versions' | 'problems';

function TabButton({ id, active, onSelect, children }: { id: Tab; active: boolean; onSelect: (t: Tab) => void; children: ReactNode }) {
  return (
    <button
      type="button"
      role="tab"
      id={`tab-${id}`}
      aria-selected={active}
      aria-controls={`panel-${id}`}
      onClick={() => onSelect(id)}
      className={`shrink-0 whitespace-nowrap border-b-2 px-1.5 py-2 text-xs 2xl:px-3 2xl:text-sm ${active ? 'border-indigo-600 font-medium text-indigo-800 dark:text-indigo-200' : 'border-transparent text-slate-700 hover:text-slate-900 dark:text-slate-300'}`}
    >
      {children}
    </button>
  );
}

/** The right-hand side: the tabbed panels (inspector, test run, past events, versions, problems) over the YAML. */
export function DesignerPanels({ workspace: w }: { workspace: FlowWorkspace }) {
  const { saved, editable, fileBase } = w;
  const [tab, setTab] = useState<Tab>('inspector');
  return (
    <>
      <div role="tablist" aria-label="Designer panels" className="flex overflow-x-auto border-b border-slate-200 dark:border-slate-800">
        <TabButton id="inspector" active={tab === 'inspector'} onSelect={setTab}>
          Inspector
        </TabButton>
        <TabButton id="test" active={tab === 'test'} onSelect={setTab}>
          Test run
        </TabButton>
        {saved ? (
          <TabButton id="replay" active={tab === 'replay'} onSelect={setTab}>
            Past events
          </TabButton>
        ) : null}
        {saved ? (
          <TabButton id="versions" active={tab === 'versions'} onSelect={setTab}>
            Versions
          </TabButton>
        ) : null}
        <TabButton id="problems" active={tab === 'problems'} onSelect={setTab}>
          Problems ({w.diagnostics.length})
        </TabButton>
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="min-h-0 flex-[3] overflow-y-auto">
        {tab === 'inspector' ? <Inspector readOnly={!editable} fields={w.compiled.fields} /> : null}
        {tab === 'test' ? <TestPanel canRun={editable} flowFileName={fileBase} /> : null}
        {tab === 'replay' && saved ? <ReplayPanel flowId={saved.id} flowFileName={fileBase} canRun={editable} /> : null}
        {tab === 'versions' && saved ? <VersionsPanel flowId={saved.id} editable={editable} /> : null}
        {tab === 'problems' ? <ProblemsList diagnostics={w.diagnostics} /> : null}
      </div>
      <section aria-labelledby="yaml-heading" className="flex min-h-0 flex-[2] flex-col border-t border-slate-200 dark:border-slate-800">
        <h2 id="yaml-heading" className="px-3 py-1 text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
          Serverless Workflow DSL (YAML)
        </h2>
        <div className="min-h-0 flex-1">
          <YamlPanel yaml={w.compiled.yaml} readOnly={!editable} />
        </div>
      </section>
    </>
  );
}
