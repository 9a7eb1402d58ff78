'use client';

import type { Diagnostic } from '@/runtime/compiler/diagnostics';
import { useDesignerStore } from './designer-provider';

/** Every compiler diagnostic; choosing one selects its node. */
export function ProblemsList({ diagnostics }: { diagnostics: readonly Diagnostic[] }) {
  const store = useDesignerStore();
  if (diagnostics.length === 0) return <p className="p-3 text-sm text-slate-600 dark:text-slate-300">No problems: the flow compiles.</p>;
  return (
    <ul aria-label="Problems" className="divide-y divide-slate-200 text-sm dark:divide-slate-700">
      {diagnostics.map((d, i) => (
        <li key={i} className="p-2">
          <button
            type="button"
            disabled={!d.nodeId}
            onClick={() => d.nodeId && store.getState().select([d.nodeId])}
            className="w-full text-left disabled:cursor-default"
          >
            <span className={d.severity === 'error' ? 'font-semibold text-rose-700 dark:text-rose-300' : 'font-semibold text-amber-800 dark:text-amber-200'}>{d.severity}</span>{' '}
            {d.nodeId ? <span className="font-mono text-xs">{d.nodeId}</span> : null} {d.path && d.path.length > 0 ? <span className="font-mono text-xs">{d.path.join('.')}</span> : null}
            <span className="block text-slate-700 dark:text-slate-200">{d.message}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
