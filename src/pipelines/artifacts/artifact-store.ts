/**
 * A content-addressed, read-only artifact store under a root directory (the state
 * directory): `store/sha256-<digest>/` holds one build output, named by the digest of its
 * tree (`tree-digest.ts`), and `index.json` maps (app, tag) to it (`artifact-index.ts`).
 *
 * A publish copies into `store/.tmp-*`, computes the digest of the copy, makes it read-only
 * and renames it into place, so no reader ever sees a partial artifact; only then is the
 * index written. A crash in between leaves a temporary directory (removed by `open`) or an
 * artifact no entry names (removed by `gc`). Tags are immutable: see {@link ArtifactStore.checkTag}.
 * One store instance per root; its mutations run one at a time.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open as openFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactError } from './artifact-error.js';
import {
  artifactEntrySchema,
  readIndex,
  temporaryIndexPrefix,
  writeIndex,
  type ArtifactEntry,
} from './artifact-index.js';
import { digestTree } from './tree-digest.js';
import { copyTreeDurably, makeTreeReadOnly, removeTree } from './tree-files.js';

/** What a build publishes. */
export interface PublishRequest {
  /** The app, an RFC 1123 label. */
  readonly app: string;
  /** The git tag, e.g. `v2.0.0` (not the full ref). */
  readonly tag: string;
  /** The commit the tag peeled to. */
  readonly commit: string;
  /** Identifies how the build was made (e.g. a hash of its steps); the same commit under another key is another artifact. */
  readonly buildKey: string;
  /** The build output; copied, never moved or changed. */
  readonly fromDir: string;
}

/** A tag to point at an artifact that is already stored (a re-tag of the same commit). */
export type TagRequest = Omit<PublishRequest, 'fromDir'> & { readonly digest: string };

/** What a publish did. */
export interface Published {
  readonly entry: ArtifactEntry;
  /** The artifact's read-only directory. */
  readonly dir: string;
  /** True when the tag was already published with this commit and build key, and nothing was copied. */
  readonly alreadyPublished: boolean;
}

/** What a garbage collection removed. */
export interface CollectionReport {
  /** Index entries whose artifact was removed (they stay in the index, marked collected). */
  readonly collected: readonly { readonly app: string; readonly tag: string }[];
  /** Digests of the removed directories. */
  readonly removedDigests: readonly string[];
}

/** The artifact store's root under Aviary's state directory: `<stateDir>/artifacts`. */
export function artifactStoreRoot(stateDir: string): string {
  return join(stateDir, 'artifacts');
}

const STORE = 'store';
const INDEX = 'index.json';
const TEMPORARY = '.tmp-';
const TRASH = '.trash-';
const ARTIFACT_DIR = /^sha256-([0-9a-f]{64})$/;

function invalid(field: string, value: string, why: string): ArtifactError {
  return new ArtifactError('AVIARY_ARTIFACT_INVALID_INPUT', `${field} ${JSON.stringify(value)}: ${why}`);
}

function checked<T extends Omit<TagRequest, 'digest'> & { digest?: string }>(request: T): T {
  const shape = artifactEntrySchema.pick({
    app: true,
    tag: true,
    commit: true,
    buildKey: true,
    digest: true,
  });
  for (const field of ['app', 'tag', 'commit', 'buildKey'] as const) {
    const result = shape.shape[field].safeParse(request[field]);
    if (!result.success) throw invalid(field, request[field], result.error.issues[0]?.message ?? 'invalid');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(request.tag + request.buildKey))
    throw invalid('tag', request.tag, 'the tag or build key contains a control character');
  if (request.digest !== undefined && !shape.shape.digest.safeParse(request.digest).success)
    throw invalid('digest', request.digest, 'expected 64 lowercase hex digits');
  return request;
}

/** The content-addressed artifact store; create with {@link ArtifactStore.open}. */
export class ArtifactStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly root: string,
    private entries: ArtifactEntry[],
    private readonly now: () => Date,
  ) {}

  /**
   * Opens the store under `root`, creating it when missing, and removes what an interrupted
   * publish or collection left behind. `now` dates the entries (a seam for tests).
   */
  static async open(root: string, options: { now?: () => Date } = {}): Promise<ArtifactStore> {
    await mkdir(join(root, STORE), { recursive: true, mode: 0o700 });
    for (const name of await readdir(join(root, STORE))) {
      if (name.startsWith(TEMPORARY) || name.startsWith(TRASH)) await removeTree(join(root, STORE, name));
    }
    for (const name of await readdir(root)) {
      if (name.startsWith(temporaryIndexPrefix(INDEX))) await removeTree(join(root, name));
    }
    return new ArtifactStore(root, await readIndex(join(root, INDEX)), options.now ?? (() => new Date()));
  }

  /** The directory an artifact with `digest` is stored in (whether or not it exists). */
  directoryOf(digest: string): string {
    return join(this.root, STORE, `sha256-${digest}`);
  }

  /** The index entry of (app, tag), collected ones included. */
  entry(app: string, tag: string): ArtifactEntry | undefined {
    return this.entries.find((entry) => entry.app === app && entry.tag === tag);
  }

  /** Every index entry, by app then tag, collected ones included. */
  list(): readonly ArtifactEntry[] {
    return [...this.entries];
  }

  /** The read-only directory (app, tag) resolves to, or undefined when it was never published or was collected. */
  async resolve(app: string, tag: string): Promise<string | undefined> {
    const entry = this.entry(app, tag);
    if (entry === undefined || entry.collectedAt !== undefined) return undefined;
    const dir = this.directoryOf(entry.digest);
    return (await lstat(dir).catch(() => undefined))?.isDirectory() === true ? dir : undefined;
  }

  /**
   * A stored artifact of `app` built from `commit` with `buildKey`, under any tag: a re-tag
   * of that commit can reuse it through {@link ArtifactStore.addTag} instead of building.
   */
  findByCommit(app: string, commit: string, buildKey: string): ArtifactEntry | undefined {
    return this.entries.find(
      (entry) =>
        entry.app === app &&
        entry.commit === commit &&
        entry.buildKey === buildKey &&
        entry.collectedAt === undefined,
    );
  }

  /**
   * The tag-immutability rule, to check before building: resolves the live entry when
   * (app, tag) is already published with this commit and build key (nothing to build),
   * undefined when the tag is new (or was collected, and may be rebuilt from the same
   * commit), and throws `ARTIFACT_TAG_IMMUTABLE` when it was published from another commit
   * or build key, naming both.
   */
  checkTag(request: Omit<TagRequest, 'digest'>): ArtifactEntry | undefined {
    checked(request);
    const existing = this.entry(request.app, request.tag);
    if (existing === undefined) return undefined;
    if (existing.commit !== request.commit || existing.buildKey !== request.buildKey) {
      const what =
        existing.commit !== request.commit
          ? `commit ${existing.commit}; refusing commit ${request.commit}`
          : `build key ${existing.buildKey}; refusing build key ${request.buildKey}`;
      throw new ArtifactError(
        'AVIARY_ARTIFACT_TAG_IMMUTABLE',
        `app ${request.app} tag ${request.tag} is already published from ${what}. Tags are immutable: push a new tag`,
      );
    }
    return existing.collectedAt === undefined ? existing : undefined;
  }

  /** Copies `fromDir` into the store and maps (app, tag) to it; see {@link ArtifactStore.checkTag} for what is refused. */
  publish(request: PublishRequest): Promise<Published> {
    return this.serialised(async () => {
      const existing = this.checkTag(checked(request));
      if (existing !== undefined)
        return { entry: existing, dir: this.directoryOf(existing.digest), alreadyPublished: true };
      const temporary = join(this.root, STORE, `${TEMPORARY}${randomBytes(8).toString('hex')}`);
      try {
        await copyTreeDurably(request.fromDir, temporary);
        const digest = await digestTree(temporary);
        const dir = this.directoryOf(digest);
        if ((await lstat(dir).catch(() => undefined)) === undefined) {
          await makeTreeReadOnly(temporary);
          await rename(temporary, dir);
          await syncDirectory(join(this.root, STORE));
        }
        return { entry: await this.record(request, digest), dir, alreadyPublished: false };
      } finally {
        await removeTree(temporary);
      }
    });
  }

  /** Maps (app, tag) to an artifact already stored, e.g. one {@link ArtifactStore.findByCommit} found. */
  addTag(request: TagRequest): Promise<Published> {
    return this.serialised(async () => {
      const existing = this.checkTag(checked(request));
      if (existing !== undefined)
        return { entry: existing, dir: this.directoryOf(existing.digest), alreadyPublished: true };
      const dir = this.directoryOf(request.digest);
      if ((await lstat(dir).catch(() => undefined))?.isDirectory() !== true)
        throw invalid('digest', request.digest, 'no artifact with this digest is stored');
      return { entry: await this.record(request, request.digest), dir, alreadyPublished: false };
    });
  }

  /**
   * Removes every artifact that is not referenced, and so every stored directory no index
   * entry names. An artifact is kept when `referenced` holds its digest (whether or not an
   * entry names it), or, as a predicate, says so of any entry naming it. Entries of removed artifacts stay in the index, marked
   * collected, so their tags stay bound to their commits.
   */
  gc(referenced: ReadonlySet<string> | ((entry: ArtifactEntry) => boolean)): Promise<CollectionReport> {
    const isReferenced =
      typeof referenced === 'function' ? referenced : (entry: ArtifactEntry) => referenced.has(entry.digest);
    return this.serialised(async () => {
      const live = this.entries.filter((entry) => entry.collectedAt === undefined);
      const kept = new Set(typeof referenced === 'function' ? [] : referenced);
      for (const entry of live) if (isReferenced(entry)) kept.add(entry.digest);
      const collectedAt = this.now().toISOString();
      const collected = live.filter((entry) => !kept.has(entry.digest));
      if (collected.length > 0) {
        // The index first: a crash after it leaves only unnamed directories, which the next gc removes.
        await this.save(
          this.entries.map((entry) => (collected.includes(entry) ? { ...entry, collectedAt } : entry)),
        );
      }
      const removedDigests: string[] = [];
      for (const name of await readdir(join(this.root, STORE))) {
        const digest = ARTIFACT_DIR.exec(name)?.[1];
        if (digest === undefined || kept.has(digest)) continue;
        // Renamed out of sight first, so no reader resolves a half-removed directory.
        const trash = join(this.root, STORE, `${TRASH}${randomBytes(8).toString('hex')}`);
        await rename(join(this.root, STORE, name), trash);
        await removeTree(trash);
        removedDigests.push(digest);
      }
      return { collected: collected.map(({ app, tag }) => ({ app, tag })), removedDigests };
    });
  }

  private async record(request: Omit<TagRequest, 'digest'>, digest: string): Promise<ArtifactEntry> {
    const entry: ArtifactEntry = {
      app: request.app,
      tag: request.tag,
      commit: request.commit,
      digest,
      buildKey: request.buildKey,
      publishedAt: this.now().toISOString(),
    };
    const others = this.entries.filter((e) => !(e.app === entry.app && e.tag === entry.tag));
    await this.save([...others, entry]);
    return entry;
  }

  private async save(entries: ArtifactEntry[]): Promise<void> {
    const sorted = entries.sort((a, b) => byCodeUnits(a.app, b.app) || byCodeUnits(a.tag, b.tag));
    await writeIndex(join(this.root, INDEX), sorted);
    this.entries = sorted;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** Locale-independent order, so the index file is the same on every machine. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
