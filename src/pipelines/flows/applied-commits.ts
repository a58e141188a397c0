/**
 * The last commit applied from each deploy source, kept in one JSON file replaced atomically,
 * so a release run (or a poll) after a restart knows a tip it has already applied.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { KeyedQueue } from '../../keyed-queue.js';
import {
  nodeStateFileSystem,
  writeFileAtomic,
  type StateFileSystem,
} from '../../rollout/state/state-files.js';
import { FlowError } from './flow-error.js';

const fileSchema = z.object({
  version: z.literal(1),
  applied: z.record(z.string(), z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/)),
});

/** Source name → last applied commit, durable. */
export class AppliedCommits {
  readonly #writes = new KeyedQueue();

  private constructor(
    private readonly file: string,
    private readonly applied: Map<string, string>,
    private readonly fs: StateFileSystem,
  ) {}

  /** Reads `file` (a missing one is empty). @throws FlowError AVIARY_FLOW_INVALID_OPTION naming a corrupt file */
  static async open(file: string, fs: StateFileSystem = nodeStateFileSystem): Promise<AppliedCommits> {
    await fs.makeDirectory(dirname(file));
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) return new AppliedCommits(file, new Map(), fs);
    let parsed;
    try {
      parsed = fileSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success !== true)
      throw new FlowError(
        'AVIARY_FLOW_INVALID_OPTION',
        `${file}: not an applied-commits file; fix or remove it`,
      );
    return new AppliedCommits(file, new Map(Object.entries(parsed.data.applied)), fs);
  }

  /** The last commit applied from `source`. */
  get(source: string): string | undefined {
    return this.applied.get(source);
  }

  /** Records `commit` as applied from `source`, durably. */
  set(source: string, commit: string): Promise<void> {
    return this.#writes.run('file', async () => {
      const next = new Map(this.applied).set(source, commit);
      const applied = Object.fromEntries([...next].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, applied }, null, 2)}\n`, this.fs);
      this.applied.set(source, commit);
    });
  }
}
