'use client';

import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { useDesigner, useDesignerStore } from './designer-provider';
import type { NodeRunResult } from './store';

/** Quiet time after the last change before the flow is run again for the previews. */
const SETTLE_MS = 700;

/**
 * Keeps the inspector's previews true to the flow: after each change to the canvas or the
 * sample event, the flow runs on the sample with every external call stubbed (never a real
 * target: `callRealTargets` stays off and the server stubs by default), so each node's preview
 * evaluates on what the nodes before it produced. Answers for an older state are dropped.
 */
export function usePreviewRun(enabled: boolean): void {
  const trpc = useTRPC();
  const store = useDesignerStore();
  const revision = useDesigner((s) => s.revision);
  const sampleText = useDesigner((s) => s.sampleText);
  const run = useMutation(trpc.designer.testRun.mutationOptions());
  const latest = useRef(0);
  const { mutateAsync } = run;

  useEffect(() => {
    if (!enabled) return;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(sampleText) as Record<string, unknown>;
    } catch {
      return;
    }
    const ticket = ++latest.current;
    const timer = setTimeout(() => {
      const state = store.getState();
      if (state.nodes.length === 0) return;
      mutateAsync({ graph: state.graph(), event, stubs: [], callRealTargets: false })
        .then((result) => {
          if (ticket !== latest.current || !result.ok) return;
          const stoppedBy = result.filtered ? `the source: ${result.filtered.reason}` : undefined;
          store.getState().setPreviews({ revision, sample: sampleText, nodes: result.nodes as Record<string, NodeRunResult>, ...(stoppedBy ? { stoppedBy } : {}) });
        })
        .catch(() => {
          // A preview that cannot run leaves the previous one; the test panel reports run errors.
        });
    }, SETTLE_MS);
    return () => clearTimeout(timer);
  }, [enabled, revision, sampleText, store, mutateAsync]);
}
