/**
 * Masking secret values in a stream of text. Output arrives in chunks that may split a
 * secret anywhere, so the masker holds back the last `longest secret − 1` characters of
 * what it has seen (never a finished line, unless a secret spans lines) until the next
 * chunk or the end shows whether they start a secret.
 */

/** The text that replaces every secret value. */
export const MASK = '***';

/** A streaming masker for one output stream. */
export class SecretMasker {
  private readonly secrets: readonly string[];
  private readonly holdBack: number;
  private readonly multiline: boolean;
  private pending = '';

  /** `secrets` are the values to hide; empty strings are ignored. */
  constructor(secrets: readonly string[]) {
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...new Set(secrets.filter((secret) => secret !== ''))].sort(
      (a, b) => b.length - a.length,
    );
    this.holdBack = Math.max(0, (this.secrets[0]?.length ?? 0) - 1);
    this.multiline = this.secrets.some((secret) => secret.includes('\n'));
  }

  /** Takes the next chunk; returns the text that can be written now, secrets masked. */
  push(chunk: string): string {
    return this.mask(this.pending + chunk, false);
  }

  /** Returns what was held back, masked; call once at the end of the stream. */
  end(): string {
    return this.mask(this.pending, true);
  }

  private mask(text: string, final: boolean): string {
    // A secret starting before `safeEnd` fits entirely in `text`; later ones may continue in
    // the next chunk. When no secret spans lines, none continues past a newline, so whole
    // lines go out at once instead of waiting for the next chunk.
    const lineEnd = this.multiline ? 0 : text.lastIndexOf('\n') + 1;
    const safeEnd = final ? text.length : Math.max(text.length - this.holdBack, lineEnd);
    let out = '';
    let index = 0;
    let copiedFrom = 0;
    while (index < safeEnd) {
      const secret = this.secrets.find((candidate) => text.startsWith(candidate, index));
      if (secret === undefined) {
        index += 1;
        continue;
      }
      out += text.slice(copiedFrom, index) + MASK;
      index += secret.length;
      copiedFrom = index;
    }
    const emitEnd = Math.max(copiedFrom, Math.min(index, safeEnd));
    out += text.slice(copiedFrom, emitEnd);
    this.pending = text.slice(emitEnd);
    return out;
  }
}

/** `text` with every secret masked, for text that is whole (a step's argv, an error message). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const masker = new SecretMasker(secrets);
  return masker.push(text) + masker.end();
}
