/**
 * The compiler's YAML, written directly: documents are plain JSON data, so block-style YAML
 * is a short walk, several times faster than building the `yaml` package's node tree (which
 * was most of a large flow's compile time). Scalars are still formatted by `yaml` itself —
 * one call per distinct string, cached — so quoting is exactly the package's, and anything
 * the walk does not cover (multi-line strings, non-finite numbers, values that are not JSON)
 * goes to `yaml` whole. A unit test holds the two outputs equal.
 */
import { stringify } from 'yaml';

const options = { lineWidth: 0, aliasDuplicateObjects: false } as const;

class Unsupported extends Error {}

const scalars = new Map<string, string>();

/** Words and names that are plain in YAML 1.2's core schema: no indicator, space, or other type. */
const SAFE_PLAIN = /^[A-Za-z_][A-Za-z0-9_\-./]*$/;
const CORE_WORDS = /^(true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;

function scalar(value: string): string {
  if (SAFE_PLAIN.test(value) && !CORE_WORDS.test(value)) return value;
  let text = scalars.get(value);
  if (text === undefined) {
    if (value.includes('\n') || value.includes('\r')) throw new Unsupported();
    text = stringify(value, options).slice(0, -1);
    if (text.includes('\n')) throw new Unsupported();
    // Bounded: the cache holds task names and expressions, not event traffic.
    if (scalars.size > 50_000) scalars.clear();
    scalars.set(value, text);
  }
  return text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A value that fits on its key's line, or undefined for a non-empty collection. */
function inline(value: unknown): string | undefined {
  if (typeof value === 'string') return scalar(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || Object.is(value, -0)) throw new Unsupported();
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (isPlainObject(value)) return Object.values(value).some((v) => v !== undefined) ? undefined : '{}';
  throw new Unsupported();
}

function writeMap(map: Record<string, unknown>, indent: string, out: string[], firstPrefix: string): void {
  let first = true;
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (value === undefined) continue;
    const prefix = first ? firstPrefix : indent;
    first = false;
    const text = inline(value);
    // yaml writes keys over 1024 characters as explicit `? key` entries.
    if (key.length > 1000) throw new Unsupported();
    const name = scalar(key);
    if (text !== undefined) out.push(`${prefix}${name}: ${text}\n`);
    else {
      out.push(`${prefix}${name}:\n`);
      writeBlock(value, `${indent}  `, out);
    }
  }
}

function writeSeq(items: unknown[], indent: string, out: string[], firstPrefix: string): void {
  items.forEach((item, i) => {
    const prefix = `${i === 0 ? firstPrefix : indent}- `;
    if (item === undefined) throw new Unsupported();
    const text = inline(item);
    if (text !== undefined) out.push(`${prefix}${text}\n`);
    else if (Array.isArray(item)) writeSeq(item, `${indent}  `, out, prefix);
    else writeMap(item as Record<string, unknown>, `${indent}  `, out, prefix);
  });
}

function writeBlock(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) writeSeq(value, indent, out, indent);
  else writeMap(value as Record<string, unknown>, indent, out, indent);
}

export function toBlockYaml(document: unknown): string {
  try {
    const text = inline(document);
    if (text !== undefined) return `${text}\n`;
    const out: string[] = [];
    writeBlock(document, '', out);
    return out.join('');
  } catch (error) {
    if (error instanceof Unsupported) return stringify(document, options);
    throw error;
  }
}
