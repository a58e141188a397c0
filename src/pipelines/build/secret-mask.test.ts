import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK, maskSecrets, SecretMasker } from './secret-mask.js';

function maskInChunks(secrets: string[], chunks: string[]): string {
  const masker = new SecretMasker(secrets);
  return chunks.map((chunk) => masker.push(chunk)).join('') + masker.end();
}

describe('secret masking', () => {
  it('masks every occurrence of every secret', () => {
    expect(maskSecrets('token=hunter2 and hunter2, pw=s3cr3t', ['hunter2', 's3cr3t'])).toBe(
      `token=${MASK} and ${MASK}, pw=${MASK}`,
    );
  });

  it('masks a secret split across two chunks, and across many', () => {
    expect(maskInChunks(['hunter2'], ['token=hun', 'ter2\n'])).toBe(`token=${MASK}\n`);
    expect(maskInChunks(['hunter2'], ['h', 'u', 'n', 't', 'e', 'r', '2'])).toBe(MASK);
  });

  it('masks the longer of two overlapping secrets whole', () => {
    expect(maskSecrets('abcdef', ['abc', 'abcdef'])).toBe(MASK);
  });

  it('ignores empty secrets and passes text through unchanged without secrets', () => {
    expect(maskInChunks(['', ''], ['plain ', 'text'])).toBe('plain text');
  });

  it('holds back no more than a secret could need', () => {
    const masker = new SecretMasker(['abcd']);
    expect(masker.push('xxxxabc')).toBe('xxxx');
    expect(masker.push('z')).toBe('abcz'.slice(0, 1));
    expect(masker.end()).toBe('bcz');
  });

  it('writes a finished line at once unless a secret spans lines', () => {
    expect(new SecretMasker(['abcd']).push('x\nab\nxa')).toBe('x\nab\n');
    expect(new SecretMasker(['ab\ncd']).push('x\nab\n')).toBe('x');
  });

  it('never lets a secret through, however the text is chunked (property)', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', '\n');
    const word = fc.array(alphabet, { minLength: 2, maxLength: 6 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 3 }),
        fc.array(alphabet, { maxLength: 60 }),
        fc.array(fc.nat(60), { maxLength: 6 }),
        (secrets, chars, cuts) => {
          const text = chars.join('') + secrets.join('x');
          const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...points, text.length]
            .slice(1)
            .map((end, i, ends) => text.slice(i === 0 ? 0 : ends[i - 1], end));
          const chunked = maskInChunks(secrets, chunks);
          expect(chunked).toBe(maskSecrets(text, secrets));
          for (const secret of secrets) expect(chunked.replaceAll(MASK, '\0')).not.toContain(secret);
        },
      ),
    );
  });
});
