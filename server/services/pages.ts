/**
 * Keyset pagination for the studio's lists. A list is ordered by a key that is unique per row
 * (a sequence number, or a timestamp with tie-breakers); a page ends with the key of its last
 * row, handed out as an opaque cursor, and the next page starts strictly after that key. So a
 * page never skips or repeats a row when rows arrive meanwhile, and reaching page 50 costs
 * one index range scan, not an OFFSET over 49 pages.
 */
import { z } from 'zod';
import { ServiceError } from './errors';

/** The cursor a previous page returned as `nextCursor`; absent for the first page. */
export const cursorInput = z.string().max(1000).nullish();

export interface Page<T> {
  items: T[];
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
}

type KeyPart = string | number;

export function encodeCursor(key: KeyPart[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key a cursor holds, checked against the list's key shape (`'s'` string, `'n'` number). */
export function decodeCursor(cursor: string, shape: readonly ('s' | 'n')[], list: string): KeyPart[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const fits = Array.isArray(key) && key.length === shape.length && key.every((part, i) => (shape[i] === 'n' ? typeof part === 'number' && Number.isFinite(part) : typeof part === 'string'));
  if (!fits) throw new ServiceError('BAD_REQUEST', `the cursor is not one this ${list} list handed out; start again from the first page (omit cursor) and use each page's nextCursor`);
  return key as KeyPart[];
}

/** The page from `limit + 1` fetched rows: the extra row only tells that there is a next page. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => KeyPart[]): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1]!)) };
}
