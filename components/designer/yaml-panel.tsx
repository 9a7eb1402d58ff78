'use client';

import { yaml as yamlLanguage } from '@codemirror/lang-yaml';
import { linter, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import CodeMirror, { EditorView } from '@uiw/react-codemirror';
import { useMemo, useState } from 'react';
import { useDesigner, useDesignerStore } from './designer-provider';
import { readFlowYaml, type YamlProblem } from './yaml-sync';

/** The live DSL of the canvas; typing here decompiles and redraws the canvas. */
export function YamlPanel({ yaml, readOnly }: { yaml: string; readOnly: boolean }) {
  const store = useDesignerStore();
  const origin = useDesigner((s) => s.origin);
  const [draft, setDraft] = useState({ text: yaml, from: yaml });
  const [problems, setProblems] = useState<YamlProblem[]>([]);
  // A new compile replaces the text unless the change came from this editor (it would fight the typist).
  if (draft.from !== yaml) {
    setDraft({ text: origin === 'yaml' ? draft.text : yaml, from: yaml });
    if (origin !== 'yaml' && problems.length > 0) setProblems([]);
  }

  const extensions = useMemo(
    () => [
      yamlLanguage(),
      EditorView.lineWrapping,
      // An explicit tabindex lets checkers (axe) see the scroller's content is reachable by keyboard, as it is.
      EditorView.contentAttributes.of({ 'aria-label': 'Flow YAML (Serverless Workflow DSL 1.0)', tabindex: '0' }),
      linter(
        (view): LintDiagnostic[] =>
          readFlowYaml(view.state.doc.toString()).problems.map((p) => ({
            from: Math.min(p.from, view.state.doc.length),
            to: Math.min(p.to, view.state.doc.length),
            severity: p.severity,
            message: p.message,
          })),
        { delay: 300 },
      ),
    ],
    [],
  );

  return (
    <div className="flex h-full flex-col">
      <div className="min-h-0 flex-1 overflow-hidden bg-white text-xs text-slate-900" data-testid="yaml-editor">
        <CodeMirror
          value={draft.text}
          height="100%"
          style={{ height: '100%' }}
          // CodeMirror's bundled dark theme fails WCAG contrast (gutter, keys); the light one passes in both studio themes.
          theme="light"
          editable={!readOnly}
          extensions={extensions}
          basicSetup={{ foldGutter: false, highlightActiveLine: false }}
          onChange={(text) => {
            setDraft({ text, from: yaml });
            const reading = readFlowYaml(text);
            setProblems(reading.problems);
            if (reading.graph) store.getState().replaceGraph(reading.graph, 'yaml', reading.notices);
          }}
        />
      </div>
      {problems.length > 0 ? (
        <ul role="alert" aria-label="YAML problems" className="max-h-32 overflow-auto border-t border-rose-200 bg-rose-50 p-2 text-xs text-rose-800 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200">
          {problems.map((p, i) => (
            <li key={i}>
              Line {p.line}: {p.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
