/**
 * CESQL as jq, for documents that must filter the same way on any DSL 1.0 runtime: the
 * parser's syntax tree (parser.ts) translated node by node with the evaluator's meaning
 * (evaluator.ts, casting.ts) — attribute values as CESQL sees them, the implicit casts of
 * `=`, comparison and arithmetic, 32-bit overflow, short-circuit AND/OR. A CESQL error
 * anywhere fails the filter (§1.2: only a Boolean true without errors passes), which jq
 * gets from raising an error and catching it once, around the whole condition.
 *
 * Function calls are refused with CesqlTranslationError rather than translated approximately.
 */
import type { CesqlNode } from './ast.ts';
import { INT32_MAX, INT32_MIN, type CesqlValue } from './casting.ts';
import { parseCesql } from './parser.ts';

export class CesqlTranslationError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'CesqlTranslationError';
  }
}

const json = (value: unknown) => JSON.stringify(value);

/** The helpers an expression uses, defined once in front of it. */
const DEFINITIONS = {
  // How an attribute's value enters CESQL (fromAttribute); absent or null is a missingAttribute error.
  cesql_attr:
    'def cesql_attr($n): (if type == "object" then .[$n] else null end) | if . == null then error("missing attribute \\($n)") elif type == "string" or type == "boolean" then . ' +
    `elif type == "number" then (if . == floor and . >= ${INT32_MIN} and . <= ${INT32_MAX} then . else tostring end) else tojson end;`,
  cesql_int:
    'def cesql_int: if type == "number" then . elif type == "boolean" then (if . then 1 else 0 end) ' +
    `elif test("\\\\A[+-]?[0-9]+\\\\z") then (ltrimstr("+") | tonumber | if . >= ${INT32_MIN} and . <= ${INT32_MAX} then . else error("cannot cast to Integer") end) else error("cannot cast to Integer") end;`,
  cesql_bool:
    'def cesql_bool: if type == "boolean" then . elif type == "number" then . != 0 ' +
    'else ascii_downcase as $l | if $l == "true" then true elif $l == "false" then false else error("cannot cast to Boolean") end end;',
  cesql_str: 'def cesql_str: if type == "string" then . else tostring end;',
  cesql_cast: 'def cesql_cast($t): if $t == "number" then cesql_int elif $t == "boolean" then cesql_bool else cesql_str end;',
  cesql_i32: `def cesql_i32: if . > ${INT32_MAX} or . < ${INT32_MIN} then error("integer overflow") else . + 0 end;`,
} as const;

type Helper = keyof typeof DEFINITIONS;
const DEPENDS: Partial<Record<Helper, Helper[]>> = { cesql_cast: ['cesql_int', 'cesql_bool', 'cesql_str'] };

/** LIKE's pattern (`%` any run, `_` one character, `\%` and `\_` literal) as an anchored Oniguruma regular expression. */
function likeToRegex(pattern: string): string {
  const chars = Array.from(pattern);
  let regex = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const next = chars[i + 1];
    if (c === '\\' && (next === '%' || next === '_')) {
      regex += escapeRegex(next);
      i++;
    } else if (c === '%') regex += '[\\s\\S]*';
    else if (c === '_') regex += '[\\s\\S]';
    else regex += escapeRegex(c);
  }
  return `\\A${regex}\\z`;
}

export function escapeRegex(c: string): string {
  return /^[\\^$.|?*+()[\]{}]$/.test(c) ? `\\${c}` : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : c;
}

class Translator {
  readonly used = new Set<Helper>();

  private use(helper: Helper): string {
    this.used.add(helper);
    for (const dependency of DEPENDS[helper] ?? []) this.used.add(dependency);
    return helper;
  }

  private literal(value: CesqlValue): string {
    return json(value);
  }

  /** A node's CESQL value, or a jq error where the evaluator records one. */
  value(node: CesqlNode): string {
    switch (node.kind) {
      case 'literal':
        return this.literal(node.value);
      case 'attribute':
        // `data` is the payload, not a context attribute (evaluator.ts).
        if (node.name === 'data' || node.name === 'data_base64') return `error(${json(`missing attribute ${node.name}`)})`;
        return `${this.use('cesql_attr')}(${json(node.name)})`;
      case 'exists':
        if (node.name === 'data' || node.name === 'data_base64') return 'false';
        return `(if type == "object" then .[${json(node.name)}] != null else false end)`;
      case 'not':
        return `(${this.value(node.operand)} | ${this.use('cesql_bool')} | not)`;
      case 'negate':
        return `(${this.value(node.operand)} | ${this.use('cesql_int')} | (0 - .) | ${this.use('cesql_i32')})`;
      case 'like':
        return `((${this.value(node.operand)} | ${this.use('cesql_str')} | test(${json(likeToRegex(node.pattern))}))${node.negated ? ' | not' : ''})`;
      case 'in': {
        const set = node.set.map((n) => this.value(n)).join(', ');
        return `(${this.value(node.operand)} as $v | ($v | type) as $t | [${set}] | map(${this.use('cesql_cast')}($t)) | any(.[]; . == $v)${node.negated ? ' | not' : ''})`;
      }
      case 'call':
        throw new CesqlTranslationError(`function ${node.name}() at ${node.position} is not supported in compiled filters`, node.position);
      case 'binary':
        return this.binary(node);
    }
  }

  private binary(node: Extract<CesqlNode, { kind: 'binary' }>): string {
    const left = this.value(node.left);
    const right = this.value(node.right);
    switch (node.operator) {
      case 'AND':
        return `((${left} | ${this.use('cesql_bool')}) as $l | if $l then (${right} | cesql_bool) else false end)`;
      case 'OR':
        return `((${left} | ${this.use('cesql_bool')}) as $l | if $l then true else (${right} | cesql_bool) end)`;
      case 'XOR':
        return `((${left} | ${this.use('cesql_bool')}) as $l | (${right} | cesql_bool) as $r | $l != $r)`;
      case '=':
      case '!=':
      case '<>': {
        const op = node.operator === '=' ? '==' : '!=';
        // The right operand's type picks the overload; the left one is cast to it (evaluator.ts).
        if (node.right.kind === 'literal') {
          const r = node.right.value;
          const cast = typeof r === 'string' ? this.use('cesql_str') : typeof r === 'number' ? this.use('cesql_int') : this.use('cesql_bool');
          return `((${left} | ${cast}) ${op} ${this.literal(r)})`;
        }
        return `(${left} as $l | ${right} as $r | (if ($l | type) == ($r | type) then $l else ($l | ${this.use('cesql_cast')}($r | type)) end) ${op} $r)`;
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
        return `((${left} | ${this.use('cesql_int')}) ${node.operator} (${right} | cesql_int))`;
      case '+':
      case '-':
      case '*':
        return `(((${left} | ${this.use('cesql_int')}) ${node.operator} (${right} | cesql_int)) | ${this.use('cesql_i32')})`;
      case '/':
        return `((${left} | ${this.use('cesql_int')}) as $a | (${right} | cesql_int) as $b | if $b == 0 then error("division by zero") else ($a / $b | trunc) end | ${this.use('cesql_i32')})`;
      case '%':
        return `((${left} | ${this.use('cesql_int')}) as $a | (${right} | cesql_int) as $b | if $b == 0 then error("modulo by zero") else ($a - $b * ($a / $b | trunc)) end | ${this.use('cesql_i32')})`;
    }
  }
}

/**
 * The jq condition of a CESQL filter: true exactly when the expression yields the Boolean
 * true without error. Throws CesqlParseError for invalid CESQL, CesqlTranslationError for
 * what jq cannot express the same way.
 */
export function cesqlToJq(source: string): string {
  const translator = new Translator();
  const body = translator.value(parseCesql(source));
  const helpers = (Object.keys(DEFINITIONS) as Helper[]).filter((h) => translator.used.has(h));
  const definitions = helpers.map((h) => DEFINITIONS[h]).join(' ');
  return `(${definitions ? `${definitions} ` : ''}try (${body} == true) catch false)`;
}
