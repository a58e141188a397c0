/**
 * The state file `<stateDir>/children.json`: which versions this controller runs and which
 * processes it started, so that after a crash (`kill -9`) the next run can adopt the
 * survivors instead of leaking them. Written atomically (temp file, fsync, rename, fsync of
 * the directory) so a crash mid-write leaves the previous complete file.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { TargetError } from '../target-error.js';
import type { VersionRole } from '../target.js';
import type { ProcessSpec } from './version-spec.js';

const probeSchema = z.object({
  path: z.string(),
  intervalMs: z.number(),
  timeoutMs: z.number(),
  successThreshold: z.number(),
  failureThreshold: z.number(),
  initialDelayMs: z.number(),
});

const roleSchema = z.enum(['primary', 'canary', 'baseline']);

const childSchema = z.object({
  pid: z.number().int().positive(),
  pgid: z.number().int().positive(),
  port: z.number().int().min(1).max(65_535),
  app: z.string(),
  role: roleSchema,
  revision: z.string(),
  replica: z.number().int().min(0),
  /** Epoch ms when the process was started. */
  startedAt: z.number(),
  /** `/proc/<pid>/stat` start time, to tell our process from a later one that reused the pid. */
  startTicks: z.string().nullable(),
});

const registrySchema = z.object({
  format: z.literal(1),
  /** Random id handed to every child as `AVIARY_INSTANCE`; stable across restarts of the controller. */
  instance: z.string().min(1),
  /** The controller process that last wrote the file. */
  owner: z.object({ pid: z.number().int(), startTicks: z.string().nullable() }),
  versions: z.array(
    z.object({
      app: z.string(),
      role: roleSchema,
      spec: z.object({
        command: z.string(),
        args: z.array(z.string()),
        cwd: z.string().optional(),
        env: z.record(z.string(), z.string()),
        replicas: z.number().int().min(0),
        readinessProbe: probeSchema.optional(),
        livenessProbe: probeSchema.optional(),
      }),
    }),
  ),
  children: z.array(childSchema),
});

/** One process started by the target. */
export type ChildRecord = z.infer<typeof childSchema>;

/** The whole state file. */
export interface RegistryDocument {
  readonly format: 1;
  readonly instance: string;
  readonly owner: { readonly pid: number; readonly startTicks: string | null };
  readonly versions: readonly {
    readonly app: string;
    readonly role: VersionRole;
    readonly spec: ProcessSpec;
  }[];
  readonly children: readonly ChildRecord[];
}

/** Reads the state file; undefined when it does not exist. Throws `AVIARY_TARGET_STATE_CORRUPT` when unreadable. */
export async function readRegistry(path: string): Promise<RegistryDocument | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, 'not JSON', error);
  }
  const result = registrySchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const why = issue === undefined ? 'unexpected shape' : `${issue.path.join('.')}: ${issue.message}`;
    throw corrupt(path, why, result.error);
  }
  const versions = result.data.versions.map(({ app, role, spec }) => ({
    app,
    role,
    spec: withoutUndefined(spec),
  }));
  return { ...result.data, versions };
}

/** Drops keys whose value is undefined: the schema's output allows them, `ProcessSpec` does not. */
function withoutUndefined(spec: z.infer<typeof registrySchema>['versions'][number]['spec']): ProcessSpec {
  const { cwd, readinessProbe, livenessProbe, ...rest } = spec;
  return {
    ...rest,
    ...(cwd === undefined ? {} : { cwd }),
    ...(readinessProbe === undefined ? {} : { readinessProbe }),
    ...(livenessProbe === undefined ? {} : { livenessProbe }),
  };
}

function corrupt(path: string, why: string, cause: unknown): TargetError {
  return new TargetError(
    'AVIARY_TARGET_STATE_CORRUPT',
    `state file ${path} is unreadable (${why}); stop any processes with AVIARY_INSTANCE in their environment, then delete the file`,
    { cause },
  );
}

/**
 * Replaces the state file atomically. Security: the file holds the versions' environment
 * variables, so it is created with mode 0600.
 */
export async function writeRegistry(path: string, document: RegistryDocument): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(document, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  // The rename is durable only once the directory entry is flushed too.
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * Coalescing writer: many changes in a burst (a scale to 10 replicas) become one or two
 * writes, and `flush()` resolves only after the latest state is on disk.
 */
export class RegistryWriter {
  #running: Promise<void> | undefined;
  #dirty = false;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => RegistryDocument,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Marks the state changed; a write follows soon. */
  schedule(): void {
    this.#dirty = true;
    this.#running ??= this.#drain();
  }

  /** Writes the current state and resolves when it is durable. */
  async flush(): Promise<void> {
    this.schedule();
    await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        try {
          await writeRegistry(this.path, this.snapshot());
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      // Cleared in the same synchronous step as the last `#dirty` check, so no change is lost.
      this.#running = undefined;
    }
  }
}
