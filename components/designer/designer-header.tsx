'use client';

import { useState } from 'react';
import { Button } from '@/components/ui/button';
import type { FlowWorkspace } from './use-flow-workspace';

/** The flow's title bar: its name and live state, rename, save and deploy. */
export function DesignerHeader({ workspace: w }: { workspace: FlowWorkspace }) {
  const { saved } = w;
  return (
    <header className="flex flex-nowrap items-center gap-3 border-b border-slate-200 px-4 py-2 dark:border-slate-800">
      <h1 className="min-w-0 truncate text-lg font-semibold" title={saved ? saved.name : 'New flow'}>
        {saved ? saved.name : 'New flow'}
      </h1>
      <span className="shrink-0 whitespace-nowrap rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium dark:bg-slate-800" data-testid="deploy-status">
        {w.liveVersion !== undefined ? `Live · v${w.liveVersion}` : 'Not deployed'}
      </span>
      {w.liveCounts ? (
        <span className="shrink-0 whitespace-nowrap text-xs text-slate-700 dark:text-slate-300" data-testid="live-counts">
          {w.liveCounts.eventsIn} events in · {w.liveCounts.failures} failures
        </span>
      ) : null}
      {w.dirty && w.editable ? <span className="shrink-0 whitespace-nowrap text-xs text-amber-800 dark:text-amber-200">Unsaved changes</span> : null}
      <div className="ml-auto flex shrink-0 flex-nowrap items-center gap-2">
        {w.editable ? (
          <form
            className="flex items-center gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              w.rename();
            }}
          >
            <label htmlFor="flow-name" className="sr-only">
              Flow name
            </label>
            <input id="flow-name" value={w.name} placeholder="Flow name" onChange={(e) => w.setName(e.target.value)} className="w-44 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-600 dark:bg-slate-900" />
            {saved ? (
              <Button type="submit" variant="secondary" disabled={!w.canRename || w.renaming}>
                Rename
              </Button>
            ) : null}
          </form>
        ) : null}
        {w.editable ? (
          <Button type="button" variant="secondary" disabled={w.busy || (saved !== undefined && !w.dirty)} onClick={() => void w.save()}>
            {saved ? 'Save version' : 'Save flow'}
          </Button>
        ) : null}
        {w.editable && saved ? (
          <>
            {w.liveVersion !== undefined ? (
              <Button type="button" variant="secondary" disabled={w.undeploying} onClick={w.undeploy}>
                Undeploy
              </Button>
            ) : null}
            <Button type="button" disabled={w.busy} onClick={() => void w.deploy()}>
              {w.deploying ? 'Deploying…' : 'Deploy'}
            </Button>
          </>
        ) : null}
      </div>
    </header>
  );
}

/** The live flow's webhook address, to copy into the sending system. */
export function WebhookBar({ url }: { url: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="flex flex-wrap items-center gap-2 border-b border-emerald-200 bg-emerald-50 px-4 py-1.5 text-sm dark:border-emerald-900 dark:bg-emerald-950">
      <label htmlFor="webhook-url" className="font-medium">
        Webhook URL
      </label>
      <input id="webhook-url" readOnly value={url} className="w-[28rem] rounded border border-emerald-300 bg-white px-2 py-0.5 font-mono text-xs dark:border-emerald-800 dark:bg-slate-900" />
      <Button
        type="button"
        variant="secondary"
        onClick={() => {
          void navigator.clipboard?.writeText(url).then(() => setCopied(true));
        }}
      >
        {copied ? 'Copied' : 'Copy webhook URL'}
      </Button>
    </div>
  );
}
