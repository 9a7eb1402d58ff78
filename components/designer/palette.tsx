'use client';

import { useMemo, useState } from 'react';
import { nodeCategories, paletteDefinitions, type NodeCategory } from '@/runtime/nodes/index';
import { NodeIcon } from './node-icon';

export const DRAG_MIME = 'application/x-meshflow-node-kind';

const categoryTitle: Record<NodeCategory, string> = {
  source: 'Sources',
  filter: 'Filters',
  transform: 'Transforms',
  control: 'Control',
  target: 'Targets',
};

/** Every kind the registry offers, by category; drag one onto the canvas, or press it to add it at the centre. */
export function Palette({ onAdd, disabled }: { onAdd: (kind: string) => void; disabled?: boolean }) {
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    return nodeCategories
      .map((category) => ({
        category,
        items: paletteDefinitions(category).filter((d) => !q || d.title.toLowerCase().includes(q) || d.kind.includes(q) || d.description.toLowerCase().includes(q)),
      }))
      .filter((g) => g.items.length > 0);
  }, [query]);

  return (
    <nav aria-label="Node palette" className="flex h-full flex-col gap-2 overflow-y-auto p-3">
      <label htmlFor="palette-search" className="text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
        Search nodes
      </label>
      <input
        id="palette-search"
        type="search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="webhook, jq, http…"
        className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-600 dark:bg-slate-900"
      />
      {groups.length === 0 ? <p className="text-sm text-slate-600 dark:text-slate-300">No node matches “{query}”.</p> : null}
      {groups.map((group) => (
        <section key={group.category} aria-labelledby={`palette-${group.category}`}>
          <h2 id={`palette-${group.category}`} className="mt-2 mb-1 text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
            {categoryTitle[group.category]}
          </h2>
          <ul className="space-y-1">
            {group.items.map((def) => (
              <li key={def.kind}>
                <button
                  type="button"
                  draggable={!disabled}
                  disabled={disabled}
                  title={def.description}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DRAG_MIME, def.kind);
                    e.dataTransfer.effectAllowed = 'move';
                  }}
                  onClick={() => onAdd(def.kind)}
                  className="flex w-full cursor-grab items-center gap-2 rounded-md border border-slate-200 bg-white px-2 py-1.5 text-left text-sm hover:border-indigo-400 hover:bg-indigo-50 focus-visible:outline-2 focus-visible:outline-indigo-600 disabled:cursor-not-allowed disabled:opacity-60 dark:border-slate-700 dark:bg-slate-800 dark:hover:bg-slate-700"
                >
                  <NodeIcon name={def.icon} />
                  {def.title}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
