/**
 * Completion of field paths in expression fields: from the text before the cursor and the
 * fields the compiler inferred at the node's input (`fieldsAt`), the names that may follow the
 * path being typed. Pure, so the editor's CodeMirror source is a thin adapter over it.
 */
import type { FieldInfo } from '@/runtime/compiler/data-shapes';

export type ExpressionKind = 'jq' | 'runtime';

export interface FieldCompletion {
  /** Offset in the text where the name being typed starts (just after its `.`). */
  from: number;
  options: { label: string; type: string }[];
}

/**
 * A path being typed at the end of the text: `.`, `.da`, `.data.`, `.data.items[].s`. The
 * character before it must not end a value (`1.5`, `$x.y`, `f(x).y` are not input paths).
 */
const TYPED_PATH = /(^|[^A-Za-z0-9_$\])}"?.])((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\])*)\.([A-Za-z_][A-Za-z0-9_]*)?$/;

/** Whether the cursor sits inside an unclosed `${ … }` (the only place a runtime field reads jq). */
function insideRuntimeExpression(before: string): boolean {
  const open = before.lastIndexOf('${');
  return open >= 0 && !before.slice(open).includes('}');
}

export function completeFieldPath(before: string, fields: readonly FieldInfo[], kind: ExpressionKind = 'jq'): FieldCompletion | undefined {
  if (kind === 'runtime' && !insideRuntimeExpression(before)) return undefined;
  const match = TYPED_PATH.exec(before);
  if (!match) return undefined;
  const parent = match[2]!;
  const partial = match[3] ?? '';
  const seen = new Set<string>();
  const options: FieldCompletion['options'] = [];
  for (const field of fields) {
    if (!field.path.startsWith(`${parent}.`)) continue;
    const name = field.path.slice(parent.length + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !name.startsWith(partial) || seen.has(name)) continue;
    seen.add(name);
    options.push({ label: name, type: field.type });
  }
  return options.length === 0 ? undefined : { from: before.length - partial.length, options };
}
