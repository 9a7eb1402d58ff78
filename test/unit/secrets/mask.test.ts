import { describe, expect, it } from 'vitest';
import { secretMasker } from '@/runtime/secrets/mask';

describe('secretMasker', () => {
  it('replaces every occurrence of a secret value anywhere in a JSON value', () => {
    const mask = secretMasker(['s3cr3t', 'pa ss/wörd']);
    expect(
      mask({
        header: 'Bearer s3cr3t',
        nested: [{ twice: 's3cr3t and s3cr3t' }, 42, null, true],
        url: `https://api.example/x?p=${encodeURIComponent('pa ss/wörd')}`,
        quoted: JSON.stringify({ password: 'pa ss/wörd' }),
        s3cr3t: 'a key that is a secret',
      }),
    ).toEqual({
      header: 'Bearer ***',
      nested: [{ twice: '*** and ***' }, 42, null, true],
      url: 'https://api.example/x?p=***',
      quoted: '{"password":"***"}',
      '***': 'a key that is a secret',
    });
  });

  it('masks a secret that contains another as a whole, and leaves values without secrets alone', () => {
    const mask = secretMasker(['abc', 'abcdef', '']);
    expect(mask('xx abcdef yy abc')).toBe('xx *** yy ***');
    const untouched = { a: 'nothing here', n: 1 };
    expect(mask(untouched)).toEqual(untouched);
    expect(secretMasker([])('abc')).toBe('abc');
  });
});
