import type { CesqlValue } from './casting.ts';

export type ComparisonOperator = '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=';
export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%';
export type LogicOperator = 'AND' | 'OR' | 'XOR';

/** `position` is the zero-based offset of the node's first (or operator) token. */
export type CesqlNode =
  | { kind: 'literal'; value: CesqlValue; position: number }
  | { kind: 'attribute'; name: string; position: number }
  | { kind: 'not'; operand: CesqlNode; position: number }
  | { kind: 'negate'; operand: CesqlNode; position: number }
  | {
      kind: 'binary';
      operator: ComparisonOperator | ArithmeticOperator | LogicOperator;
      left: CesqlNode;
      right: CesqlNode;
      position: number;
    }
  | { kind: 'like'; operand: CesqlNode; pattern: string; negated: boolean; position: number }
  | { kind: 'exists'; name: string; position: number }
  | { kind: 'in'; operand: CesqlNode; set: CesqlNode[]; negated: boolean; position: number }
  | { kind: 'call'; name: string; args: CesqlNode[]; position: number };
