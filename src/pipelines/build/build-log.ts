/**
 * A build's log file: every line written through it has the configured secret values
 * masked, whether it comes from a step's stdout or stderr (each with its own masker, since
 * a secret can be split across two chunks of one stream) or from the runner itself.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { maskSecrets, SecretMasker } from './secret-mask.js';

/** An open log file that masks secrets. */
export class BuildLog {
  private constructor(
    private readonly stream: WriteStream,
    private readonly secrets: readonly string[],
  ) {}

  /** Opens `path` for appending (created 0600, parents created). */
  static async open(path: string, secrets: readonly string[]): Promise<BuildLog> {
    await mkdir(dirname(path), { recursive: true });
    const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return new BuildLog(stream, secrets);
  }

  /** Writes one line of the runner's own (a step header, an outcome), masked. */
  line(text: string): void {
    this.stream.write(`${maskSecrets(text, this.secrets)}\n`);
  }

  /** Copies `output` into the log, masked; resolves when it has ended. */
  follow(output: Readable): Promise<void> {
    const masker = new SecretMasker(this.secrets);
    const decoder = new StringDecoder('utf8');
    return new Promise((resolve) => {
      output.on('data', (chunk: Buffer) => {
        const text = masker.push(decoder.write(chunk));
        if (text !== '') this.stream.write(text);
      });
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        const rest = masker.push(decoder.end()) + masker.end();
        if (rest !== '') this.stream.write(rest);
        resolve();
      };
      output.once('end', finish);
      output.once('error', finish);
      output.once('close', finish);
    });
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }
}
