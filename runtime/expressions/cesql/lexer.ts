/**
 * CESQL tokens, following the spec's EBNF and its ANTLR lexer (cesql/CESQLLexer.g4):
 * keywords are case-insensitive, identifiers are `[a-zA-Z0-9]+`, function names are
 * letters and `_`, and string literals unescape only their own quote character so a
 * LIKE pattern keeps its `\%` and `\_` escapes.
 */
import { CesqlParseError } from './errors.ts';

export type TokenType =
  | 'integer'
  | 'string'
  | 'word'
  | '('
  | ')'
  | ','
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '='
  | '!='
  | '<>'
  | '<'
  | '<='
  | '>'
  | '>='
  | 'eof';

export interface Token {
  type: TokenType;
  /** Source text for words and integers, the unescaped value for strings. */
  text: string;
  position: number;
}

const SINGLE = new Set(['(', ')', ',', '+', '-', '*', '/', '%', '=']);

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isWordChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c === '_';
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      i++;
      let value = '';
      for (;;) {
        if (i >= source.length) throw new CesqlParseError('unterminated string literal', start);
        const d = source.charAt(i);
        if (d === '\\' && source.charAt(i + 1) === c) {
          value += c;
          i += 2;
        } else if (d === c && source.charAt(i + 1) === c) {
          // A doubled quote is the ANTLR grammar's other way to escape the delimiter.
          value += c;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ type: 'string', text: value, position: start });
      continue;
    }
    if (isDigit(c) || isWordChar(c)) {
      while (i < source.length && isWordChar(source.charAt(i))) i++;
      const text = source.slice(start, i);
      tokens.push({ type: /^[0-9]+$/.test(text) ? 'integer' : 'word', text, position: start });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ type: two, text: two, position: start });
      i += 2;
      continue;
    }
    if (SINGLE.has(c) || c === '<' || c === '>') {
      tokens.push({ type: c as TokenType, text: c, position: start });
      i++;
      continue;
    }
    throw new CesqlParseError(`unexpected character ${JSON.stringify(c)}`, start);
  }
  tokens.push({ type: 'eof', text: '', position: source.length });
  return tokens;
}
