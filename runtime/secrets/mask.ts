/**
 * Secret values never reach what the studio shows: run inputs, outputs and errors, task
 * steps, test-run results. Every occurrence of a secret value in a string (and its
 * percent-encoded form, as it appears in URLs) becomes `***`, inside any JSON value.
 * Longer values are replaced first, so a secret that contains another is masked whole.
 */
export const MASK = '***';

export type Masker = <T>(value: T) => T;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A masker for these values; the identity when there are none. */
export function secretMasker(values: Iterable<string>): Masker {
  const needles = new Set<string>();
  for (const value of values) {
    if (value === '') continue;
    needles.add(value);
    needles.add(encodeURIComponent(value));
    // A value inside a JSON text (an error message quoting a body) appears escaped.
    needles.add(JSON.stringify(value).slice(1, -1));
  }
  if (needles.size === 0) return (value) => value;
  const pattern = new RegExp([...needles].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  const maskString = (text: string) => text.replace(pattern, MASK);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return maskString(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      // Plain objects only: a Date (or any other class instance) is not JSON data.
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [maskString(k), walk(v)]));
    }
    return value;
  };
  return <T>(value: T) => walk(value) as T;
}
