/**
 * The CESQL type system (spec §3.1) and its casts (spec §3.7). Casts report failure with
 * the CAST_FAILED sentinel (after recording a cast error) rather than an object, so the
 * per-event hot path allocates nothing when casts succeed.
 */
import type { CesqlError } from './errors.ts';

export type CesqlValue = boolean | number | string;
export type CesqlType = 'Boolean' | 'Integer' | 'String';

export const CAST_FAILED: unique symbol = Symbol('cesql.castFailed');
export type CastFailed = typeof CAST_FAILED;

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

export const ZERO: Readonly<Record<CesqlType, CesqlValue>> = { Boolean: false, Integer: 0, String: '' };

export function typeOf(value: CesqlValue): CesqlType {
  return typeof value === 'string' ? 'String' : typeof value === 'number' ? 'Integer' : 'Boolean';
}

const INTEGER_TEXT = /^[+-]?[0-9]+$/;

export function toInteger(value: CesqlValue, errors: CesqlError[]): number | CastFailed {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (INTEGER_TEXT.test(value)) {
    const parsed = Number(value);
    if (parsed >= INT32_MIN && parsed <= INT32_MAX) return parsed | 0;
  }
  errors.push({ kind: 'cast', message: `cannot cast string ${JSON.stringify(value)} to Integer` });
  return CAST_FAILED;
}

export function toBoolean(value: CesqlValue, errors: CesqlError[]): boolean | CastFailed {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  errors.push({ kind: 'cast', message: `cannot cast string ${JSON.stringify(value)} to Boolean` });
  return CAST_FAILED;
}

/** Every value has a String form (spec §3.7), so this cast cannot fail. */
export function toStringValue(value: CesqlValue): string {
  return typeof value === 'string' ? value : String(value);
}

export function castTo(value: CesqlValue, type: CesqlType, errors: CesqlError[]): CesqlValue | CastFailed {
  switch (type) {
    case 'Integer':
      return toInteger(value, errors);
    case 'Boolean':
      return toBoolean(value, errors);
    case 'String':
      return toStringValue(value);
  }
}

/**
 * How an attribute's value enters CESQL (spec §3.2): booleans and 32-bit integers keep
 * their type, everything else (URIs, timestamps, binary, other numbers) becomes a String.
 */
export function fromAttribute(raw: unknown): CesqlValue {
  switch (typeof raw) {
    case 'string':
    case 'boolean':
      return raw;
    case 'number':
      return Number.isInteger(raw) && raw >= INT32_MIN && raw <= INT32_MAX ? raw : String(raw);
    case 'object':
      if (raw instanceof Date) return raw.toISOString();
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
      return JSON.stringify(raw);
    default:
      return String(raw);
  }
}
