'use client';

import { createContext, useContext, useState, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { FlowGraph } from '@/runtime/nodes/index';
import { createDesignerStore, type DesignerState, type DesignerStore } from './store';

const DesignerContext = createContext<DesignerStore | null>(null);

/** Gives the canvas below it a store of its own, made once from the graph it opens with. */
export function DesignerProvider({ initial, children }: { initial: FlowGraph; children: ReactNode }) {
  const [store] = useState(() => createDesignerStore(initial));
  return <DesignerContext.Provider value={store}>{children}</DesignerContext.Provider>;
}

export function useDesignerStore(): DesignerStore {
  const store = useContext(DesignerContext);
  if (!store) throw new Error('useDesigner must be used inside <DesignerProvider>');
  return store;
}

export function useDesigner<T>(selector: (state: DesignerState) => T): T {
  return useStore(useDesignerStore(), selector);
}
