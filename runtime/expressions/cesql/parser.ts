/**
 * Recursive-descent CESQL parser. Precedence follows spec §3.6, tightest first:
 * function calls; unary NOT and `-`; LIKE / EXISTS / IN; `* / %`; `+ -`; comparisons;
 * AND, OR and XOR — the last three share one level and group left to right, as the
 * spec says ("left to right when the precedence is equal"), unlike most SQL dialects.
 */
import { INT32_MAX, INT32_MIN } from './casting.ts';
import type { ArithmeticOperator, CesqlNode, ComparisonOperator, LogicOperator } from './ast.ts';
import { CesqlParseError } from './errors.ts';
import { tokenize, type Token, type TokenType } from './lexer.ts';

const KEYWORDS = new Set(['AND', 'OR', 'XOR', 'NOT', 'LIKE', 'IN', 'EXISTS', 'TRUE', 'FALSE']);
const COMPARISONS = new Set<TokenType>(['=', '!=', '<>', '<', '<=', '>', '>=']);
const IDENTIFIER = /^[a-zA-Z0-9]+$/;
const FUNCTION_NAME = /^[a-zA-Z][a-zA-Z_]*$/;

export function parseCesql(source: string): CesqlNode {
  return new Parser(tokenize(source)).parseRoot();
}

function describe(token: Token): string {
  if (token.type === 'eof') return 'end of expression';
  if (token.type === 'string') return `string ${JSON.stringify(token.text)}`;
  return `token '${token.text}'`;
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  parseRoot(): CesqlNode {
    const node = this.parseLogic();
    const next = this.peek();
    if (next.type !== 'eof') this.fail(next);
    return node;
  }

  private peek(offset = 0): Token {
    // The token list always ends with 'eof', so clamping keeps every read in bounds.
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'eof') this.index++;
    return token;
  }

  private keyword(offset = 0): string | undefined {
    const token = this.peek(offset);
    if (token.type !== 'word') return undefined;
    const upper = token.text.toUpperCase();
    return KEYWORDS.has(upper) ? upper : undefined;
  }

  private fail(token: Token, expected?: string): never {
    throw new CesqlParseError(
      `unexpected ${describe(token)}${expected ? `, expected ${expected}` : ''}`,
      token.position,
    );
  }

  private expect(type: TokenType, expected: string): Token {
    const token = this.peek();
    if (token.type !== type) this.fail(token, expected);
    return this.next();
  }

  private parseLogic(): CesqlNode {
    let left = this.parseComparison();
    for (;;) {
      const op = this.keyword();
      if (op !== 'AND' && op !== 'OR' && op !== 'XOR') return left;
      const { position } = this.next();
      const right = this.parseComparison();
      left = { kind: 'binary', operator: op as LogicOperator, left, right, position };
    }
  }

  private parseComparison(): CesqlNode {
    let left = this.parseAdditive();
    while (COMPARISONS.has(this.peek().type)) {
      const token = this.next();
      const right = this.parseAdditive();
      left = { kind: 'binary', operator: token.type as ComparisonOperator, left, right, position: token.position };
    }
    return left;
  }

  private parseAdditive(): CesqlNode {
    let left = this.parseMultiplicative();
    while (this.peek().type === '+' || this.peek().type === '-') {
      const token = this.next();
      const right = this.parseMultiplicative();
      left = { kind: 'binary', operator: token.type as ArithmeticOperator, left, right, position: token.position };
    }
    return left;
  }

  private parseMultiplicative(): CesqlNode {
    let left = this.parsePredicate();
    while (this.peek().type === '*' || this.peek().type === '/' || this.peek().type === '%') {
      const token = this.next();
      const right = this.parsePredicate();
      left = { kind: 'binary', operator: token.type as ArithmeticOperator, left, right, position: token.position };
    }
    return left;
  }

  /** `x [NOT] LIKE 'pattern'` and `x [NOT] IN (…)`, which bind tighter than any binary operator. */
  private parsePredicate(): CesqlNode {
    let operand = this.parseUnary();
    for (;;) {
      const negated = this.keyword() === 'NOT' && (this.keyword(1) === 'LIKE' || this.keyword(1) === 'IN');
      const op = this.keyword(negated ? 1 : 0);
      if (op !== 'LIKE' && op !== 'IN') return operand;
      const position = this.peek().position;
      if (negated) this.next();
      this.next();
      if (op === 'LIKE') {
        // Spec §3.4.3: the pattern must be a string literal, never an expression.
        const pattern = this.expect('string', 'a string literal as the LIKE pattern');
        operand = { kind: 'like', operand, pattern: pattern.text, negated, position };
      } else {
        operand = { kind: 'in', operand, set: this.parseSet(), negated, position };
      }
    }
  }

  private parseSet(): CesqlNode[] {
    this.expect('(', "'(' to open the IN set");
    const set = [this.parseLogic()];
    while (this.peek().type === ',') {
      this.next();
      set.push(this.parseLogic());
    }
    this.expect(')', "',' or ')' to close the IN set");
    return set;
  }

  private parseUnary(): CesqlNode {
    const token = this.peek();
    const keyword = this.keyword();
    if (keyword === 'NOT') {
      this.next();
      return { kind: 'not', operand: this.parseUnary(), position: token.position };
    }
    if (keyword === 'EXISTS') {
      this.next();
      const name = this.peek();
      if (name.type !== 'word' || this.keyword() || !IDENTIFIER.test(name.text)) {
        this.fail(name, 'an attribute name after EXISTS');
      }
      this.next();
      return { kind: 'exists', name: name.text.toLowerCase(), position: token.position };
    }
    if (token.type === '-' || token.type === '+') {
      this.next();
      // A sign directly on digits is part of the integer literal (spec §2.2), which is
      // how -2147483648 stays representable.
      if (this.peek().type === 'integer') return this.integer(this.next(), token.type, token.position);
      if (token.type === '+') this.fail(this.peek(), 'digits after a leading +');
      return { kind: 'negate', operand: this.parseUnary(), position: token.position };
    }
    return this.parsePrimary();
  }

  private integer(token: Token, sign: '+' | '-' | '', position: number): CesqlNode {
    const value = Number(sign === '-' ? `-${token.text}` : token.text);
    if (value < INT32_MIN || value > INT32_MAX) {
      throw new CesqlParseError(`integer literal ${sign === '-' ? '-' : ''}${token.text} is outside the 32-bit range`, position);
    }
    return { kind: 'literal', value: value | 0, position };
  }

  private parsePrimary(): CesqlNode {
    const token = this.next();
    switch (token.type) {
      case 'integer':
        return this.integer(token, '', token.position);
      case 'string':
        return { kind: 'literal', value: token.text, position: token.position };
      case '(': {
        const inner = this.parseLogic();
        this.expect(')', "')'");
        return inner;
      }
      case 'word':
        return this.parseWord(token);
      default:
        return this.fail(token, 'a value');
    }
  }

  private parseWord(token: Token): CesqlNode {
    const upper = token.text.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'literal', value: upper === 'TRUE', position: token.position };
    if (KEYWORDS.has(upper)) return this.fail(token, 'a value');
    if (this.peek().type === '(') {
      if (!FUNCTION_NAME.test(token.text)) this.fail(token, 'a function name of letters and _');
      this.next();
      const args: CesqlNode[] = [];
      if (this.peek().type !== ')') {
        args.push(this.parseLogic());
        while (this.peek().type === ',') {
          this.next();
          args.push(this.parseLogic());
        }
      }
      this.expect(')', "',' or ')' to close the argument list");
      return { kind: 'call', name: upper, args, position: token.position };
    }
    if (!IDENTIFIER.test(token.text)) this.fail(token, 'an attribute name of letters and digits');
    // CloudEvents attribute names are lower-case; CESQL keywords and names are matched case-insensitively.
    return { kind: 'attribute', name: token.text.toLowerCase(), position: token.position };
  }
}
