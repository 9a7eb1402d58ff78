/** What a secret may be called: usable in `use.secrets`, `$secrets.<name>` (or `$secrets["a-b"]`) and a webhook's `secret`. */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

export const SECRET_NAME_RULE = 'a letter, then up to 99 letters, digits, "_", "-" or "."';

/** The error for `use.secrets` names that no user defined. */
export function undefinedSecretsMessage(missing: string[]): string {
  const list = missing.map((n) => `"${n}"`).join(', ');
  const one = missing.length === 1;
  return `use.secrets names ${list}, not defined as ${one ? 'a secret' : 'secrets'}; define ${one ? 'it' : 'them'} on the studio's Secrets page (meshflow run: --secret or --secrets-file)`;
}

const REFERENCE = /\$secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*"([^"\\]+)"\s*\])/g;

/** The secret names expressions in a value read (`$secrets.name`, `$secrets["a-b"]`), sorted. */
export function secretReferences(value: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(REFERENCE)) found.add((m[1] ?? m[2])!);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return [...found].sort();
}
