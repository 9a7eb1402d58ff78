'use client';

import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { useMutation } from '@tanstack/react-query';
import CodeMirror, { EditorView } from '@uiw/react-codemirror';
import { createContext, useContext, useEffect, useMemo } from 'react';
import type { FieldInfo } from '@/runtime/compiler/data-shapes';
import { fromRuntimeExpression } from '@/runtime/nodes/shared';
import { useTRPC } from '@/components/trpc-provider';
import { completeFieldPath, type ExpressionKind } from './field-completion';

/** What an expression field reads as `.`, or why there is nothing to read. */
export type ExpressionInput = { value: unknown; label: string } | { problem: string };

export interface ExpressionScope {
  /** Fields known at the node's input (from the source's catalog schema), for completion. */
  fields: readonly FieldInfo[];
  input: ExpressionInput;
  /** Inline evaluation runs jq on the server, which only editors may ask for. */
  evaluate: boolean;
}

export const ExpressionScopeContext = createContext<ExpressionScope>({ fields: [], input: { problem: 'no sample event' }, evaluate: false });

const EVALUATE_DELAY_MS = 300;

function show(outputs: unknown[]): string {
  if (outputs.length === 0) return '(no output)';
  return outputs.map((o) => JSON.stringify(o, null, 2)).join('\n');
}

/** The jq to evaluate: a jq field as typed; a runtime field only when it is a whole `${ … }`. */
function jqOf(text: string, kind: ExpressionKind): string | undefined {
  const jq = kind === 'jq' ? text : fromRuntimeExpression(text);
  return jq === undefined || jq.trim() === '' ? undefined : jq;
}

function InlineResult({ id, jq }: { id: string; jq: string | undefined }) {
  const trpc = useTRPC();
  const { input, evaluate: allowed } = useContext(ExpressionScopeContext);
  const evaluation = useMutation(trpc.designer.evaluate.mutationOptions());
  const { mutate, reset } = evaluation;
  const value = 'value' in input ? input.value : undefined;
  const ready = allowed && jq !== undefined && 'value' in input;
  useEffect(() => {
    if (!ready) {
      reset();
      return;
    }
    // Debounced: one request once the typist pauses, not one per key.
    const timer = setTimeout(() => mutate({ expression: jq!, input: value }), EVALUATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [ready, jq, value, mutate, reset]);

  if (!allowed || jq === undefined) return null;
  if ('problem' in input) {
    return (
      <p id={id} className="text-xs text-slate-600 dark:text-slate-300">
        Not evaluated: {input.problem}.
      </p>
    );
  }
  const data = evaluation.data;
  return (
    <div id={id} data-testid="expression-result" aria-live="polite" aria-busy={evaluation.isPending} className="space-y-1 text-xs">
      {/* Pending is said in words, not by dimming: faded text fails contrast for low-vision readers. */}
      <div className="text-slate-600 dark:text-slate-300">
        Result on {input.label}
        {evaluation.isPending ? <span className="ml-1 italic">(evaluating…)</span> : null}
      </div>
      {evaluation.error ? <p className="text-rose-700 dark:text-rose-300">Could not evaluate: {evaluation.error.message}</p> : null}
      {data?.ok === false ? <p className="font-mono text-rose-700 dark:text-rose-300">jq error: {data.error}</p> : null}
      {data?.ok ? <pre tabIndex={0} aria-label="Result" className="max-h-40 overflow-auto rounded bg-slate-100 p-2 font-mono text-slate-900 dark:bg-slate-900 dark:text-slate-100">{show(data.outputs)}</pre> : null}
    </div>
  );
}

/**
 * A string field holding an expression (marked with `.meta({ expression })` in the node's
 * schema): a one-line code editor completing the input's field paths, with the expression's
 * result on the sample event underneath.
 */
export function ExpressionField({
  id,
  label,
  kind,
  value,
  description,
  error,
  readOnly,
  onChange,
}: {
  id: string;
  label: string;
  kind: ExpressionKind;
  value: string;
  description: string | undefined;
  error: string | undefined;
  readOnly: boolean;
  onChange: (text: string) => void;
}) {
  const { fields, evaluate } = useContext(ExpressionScopeContext);
  // A compile per keystroke gives a new but usually equal list: rebuild the editor's extensions only when it really changes.
  const fieldsKey = JSON.stringify(fields);
  const known = useMemo(() => JSON.parse(fieldsKey) as FieldInfo[], [fieldsKey]);

  const labelId = `${id}-label`;
  const resultId = `${id}-result`;
  const jq = jqOf(value, kind);
  const describedBy = [error ? `${id}-error` : undefined, evaluate && jq !== undefined ? resultId : undefined].filter(Boolean).join(' ');
  const extensions = useMemo(
    () => [
      autocompletion({
        override: [
          (context: CompletionContext): CompletionResult | null => {
            const found = completeFieldPath(context.state.doc.sliceString(0, context.pos), known, kind);
            return found ? { from: found.from, options: found.options.map((o) => ({ label: o.label, detail: o.type, type: 'property' })), validFor: /^[A-Za-z0-9_]*$/ } : null;
          },
        ],
      }),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({
        'aria-labelledby': labelId,
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
        ...(error ? { 'aria-invalid': 'true' } : {}),
        'data-testid': `${id}-editor`,
      }),
    ],
    [known, kind, labelId, describedBy, error, id],
  );

  return (
    <div className="space-y-1">
      <div className="block text-xs font-medium text-slate-700 dark:text-slate-200">
        <span id={labelId}>{label}</span> <span className="font-normal text-slate-600 dark:text-slate-400">({kind === 'jq' ? 'jq' : 'text or ${ jq }'})</span>
      </div>
      <div className={`overflow-hidden rounded-md border bg-white text-xs text-slate-900 ${error ? 'border-rose-500' : 'border-slate-300 dark:border-slate-600'}`}>
        <CodeMirror
          value={value}
          // CodeMirror's bundled dark theme fails WCAG contrast; the light one passes in both studio themes.
          theme="light"
          editable={!readOnly}
          extensions={extensions}
          basicSetup={{
            lineNumbers: false,
            foldGutter: false,
            highlightActiveLine: false,
            highlightActiveLineGutter: false,
            // Completion is ours (field paths); auto-closed brackets would fight text pasted or typed whole.
            autocompletion: false,
            closeBrackets: false,
            searchKeymap: false,
          }}
          onChange={onChange}
        />
      </div>
      {description ? <p className="text-xs text-slate-600 dark:text-slate-400">{description}</p> : null}
      {error ? (
        <p id={`${id}-error`} className="text-xs text-rose-700 dark:text-rose-300">
          {error}
        </p>
      ) : null}
      <InlineResult id={resultId} jq={jq} />
    </div>
  );
}
