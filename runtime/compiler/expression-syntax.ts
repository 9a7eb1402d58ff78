/**
 * A design-time check of jq syntax that needs no WebAssembly: bracket and string balance,
 * interpolation nesting, dangling pipes and the operators people bring from other languages.
 * Exact jq compile errors come from the engine's jq runtime when a flow is test-run.
 */
const closing: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

export function jqSyntaxError(expression: string): string | undefined {
  const source = expression.trim();
  if (source === '') return 'the expression is empty';
  const stack: string[] = [];
  let i = 0;
  let inString = false;
  while (i < source.length) {
    const c = source[i]!;
    if (inString) {
      if (c === '\\') {
        if (source[i + 1] === '(') {
          // `\(` opens an interpolation: code until its matching `)`, then back into the string.
          stack.push('"(');
          inString = false;
        }
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (c === '"') inString = true;
    else if (c in closing) stack.push(c);
    else if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop();
      if (open === '"(' && c === ')') inString = true;
      else if (open === undefined || closing[open] !== c) return `unexpected "${c}" at ${i + 1}`;
    } else if ((c === '&' && source[i + 1] === '&') || (c === '|' && source[i + 1] === '|')) {
      return `"${c}${c}" at ${i + 1} is not jq; use ${c === '&' ? '"and"' : '"or" or "//"'}`;
    }
    i++;
  }
  if (inString) return 'unterminated string';
  if (stack.length > 0) return `unclosed "${stack[stack.length - 1]!.slice(-1)}"`;
  if (/^\|/.test(source) || /\|\s*$/.test(source)) return 'a pipe "|" needs an expression on both sides';
  return undefined;
}
