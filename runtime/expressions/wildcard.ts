/**
 * Wildcard matching in linear-ish time, for patterns users write (CESQL LIKE, data-pattern
 * `wildcard`, catalog type patterns). A backtracking regular expression built from such a
 * pattern takes time exponential in its number of wildcards on some inputs; this matcher
 * does at most value length × pattern length steps, and gives up past a step budget.
 */
export type WildcardToken = { kind: 'char'; char: string } | { kind: 'one' } | { kind: 'any' };

/** Steps one match may take before it gives up (answering undefined). */
export const WILDCARD_STEP_BUDGET = 20_000_000;

/** Tokens with runs of `any` merged (they match the same). */
export function normalizeTokens(tokens: WildcardToken[]): WildcardToken[] {
  return tokens.filter((token, i) => !(token.kind === 'any' && tokens[i - 1]?.kind === 'any'));
}

/**
 * Whether `text` matches the tokens (`one` is one code point, `any` any run of them,
 * newlines included); undefined when the match exceeded the step budget.
 */
export function matchWildcard(tokens: readonly WildcardToken[], text: string, budget = WILDCARD_STEP_BUDGET): boolean | undefined {
  const value = Array.from(text);
  let t = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  let steps = 0;
  while (v < value.length) {
    if (++steps > budget) return undefined;
    const token = tokens[t];
    if (token && (token.kind === 'one' || (token.kind === 'char' && token.char === value[v]))) {
      t++;
      v++;
    } else if (token?.kind === 'any') {
      star = t++;
      mark = v;
    } else if (star !== -1) {
      t = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === 'any') t++;
  return t === tokens.length;
}
