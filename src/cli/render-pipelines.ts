/**
 * Tables of `aviary pipelines` and `aviary artifacts`: runs (id, pipeline, source, ref,
 * state, detail, age) and artifacts (app, tag, commit, digest, referenced, published), in
 * the plain-text table every command prints (render-table.ts), coloured only on a terminal.
 */
import type { CollectionReport } from '../pipelines/artifacts/artifact-store.js';
import type { RunRecord, RunState } from '../pipelines/runs/run-record.js';
import type { ListedArtifact } from './pipelines-client.js';
import { renderTable, type Cell } from './render-table.js';
import type { Paint, TerminalStyle } from './render-terminal.js';
import { formatAge, formatTimestamp } from './render-time.js';

/** Columns of the runs table. */
export const RUN_HEADERS = ['ID', 'PIPELINE', 'SOURCE', 'REF', 'STATE', 'DETAIL', 'AGE'] as const;
/** Columns of the artifacts table. */
export const ARTIFACT_HEADERS = ['APP', 'TAG', 'COMMIT', 'DIGEST', 'REFERENCED', 'PUBLISHED'] as const;

const STATE_COLOURS: Record<RunState, Paint | undefined> = {
  queued: 'dim',
  running: 'cyan',
  succeeded: 'green',
  failed: 'red',
  'timed-out': 'red',
  skipped: 'yellow',
  interrupted: 'yellow',
};

/** A commit or digest cut to its first 12 characters, as git and registries show them. */
export function shortId(id: string | undefined): string {
  return id === undefined ? '' : id.slice(0, 12);
}

/** `refs/tags/v2.0.0` → `tags/v2.0.0`; `refs/heads/main` → `heads/main`: short, yet a tag stays a tag. */
export function shortRef(ref: string): string {
  return ref.startsWith('refs/') ? ref.slice('refs/'.length) : ref;
}

/** What the DETAIL column says of a run: its commit, then how it ended. */
export function runDetail(run: RunRecord): string {
  const commit = shortId(run.commit ?? run.after);
  const how = run.reason ?? (run.artifact ? `published ${run.artifact.tag}` : '');
  return [commit, how].filter((part) => part !== '').join(' ');
}

/** One row of the runs table at `nowMs`. */
export function runRow(run: RunRecord, nowMs: number): Cell[] {
  return [
    run.id,
    run.pipeline,
    run.source,
    shortRef(run.ref),
    { text: run.state, colour: STATE_COLOURS[run.state] },
    runDetail(run),
    `${formatAge(Date.parse(run.createdAt), nowMs)} ago`,
  ];
}

/** The runs table's lines. */
export function renderRuns(style: TerminalStyle, runs: readonly RunRecord[], nowMs: number): string[] {
  return renderTable(
    style,
    RUN_HEADERS,
    runs.map((run) => runRow(run, nowMs)),
  );
}

/** The artifacts table's lines; a collected artifact's digest is marked `(collected)`. */
export function renderArtifacts(style: TerminalStyle, artifacts: readonly ListedArtifact[]): string[] {
  return renderTable(
    style,
    ARTIFACT_HEADERS,
    artifacts.map((artifact) => [
      artifact.app,
      artifact.tag,
      shortId(artifact.commit),
      `${shortId(artifact.digest)}${artifact.collectedAt === undefined ? '' : ' (collected)'}`,
      artifact.referenced ? { text: 'yes', colour: 'green' } : 'no',
      formatTimestamp(Date.parse(artifact.publishedAt)),
    ]),
  );
}

/** What `aviary artifacts gc` prints: each tag whose artifact was removed, and the directories freed. */
export function renderCollection(report: CollectionReport): string[] {
  if (report.collected.length === 0 && report.removedDigests.length === 0)
    return ['nothing to remove: every stored artifact is referenced by a release'];
  return [
    ...report.collected.map(({ app, tag }) => `removed ${app} ${tag}`),
    `freed ${report.removedDigests.length} artifact director${report.removedDigests.length === 1 ? 'y' : 'ies'}${
      report.removedDigests.length === 0
        ? ''
        : `: ${report.removedDigests.map((digest) => `sha256-${shortId(digest)}`).join(', ')}`
    }`,
  ];
}
