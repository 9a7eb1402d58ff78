/**
 * The DSL `document.name` of a flow, from its title: what the engine's validator accepts
 * (runtime/engine/validate.ts: lowercase letters and digits, single hyphens between them)
 * and what `run: workflow` subflows and exported files are known by. Pure, so the compiler
 * takes the result as an option and the studio can show the same name before saving.
 */
const FALLBACK = 'flow';
/** Kubernetes' label length: long enough for any title anyone reads, short enough for file names and URLs. */
const MAX = 63;

export function documentNameFor(title: string): string {
  const name = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX)
    .replace(/-+$/, '');
  return name || FALLBACK;
}
