/**
 * A pipeline run as the store keeps it: its inputs (which pipeline, which source, which ref
 * and pushed object), its state, when it moved, how it ended, and the process groups it
 * started (so a restart can kill what a dead controller left running). One schema, used
 * where a run file is read back. Run ids sort by creation time: `run-<UTC time>-<counter>`.
 */
import { z } from 'zod';

/** The two pipelines of issue 14: a tag push builds, a deploy-repository push releases. */
export const PIPELINES = ['build', 'release'] as const;
/** Which pipeline a run belongs to. */
export type PipelineKind = (typeof PIPELINES)[number];

/** Every state a run can be in. */
export const RUN_STATES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'timed-out',
  'skipped',
  'interrupted',
] as const;
/** A run's state; see {@link TERMINAL_STATES}. */
export type RunState = (typeof RUN_STATES)[number];

/** States a run never leaves. */
export const TERMINAL_STATES: ReadonlySet<RunState> = new Set([
  'succeeded',
  'failed',
  'timed-out',
  'skipped',
  'interrupted',
]);

/** True when `state` is final. */
export function isTerminal(state: RunState): boolean {
  return TERMINAL_STATES.has(state);
}

const objectId = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/);
/** The shape of a run id: `run-<UTC time to the millisecond>-<counter>`. */
export const RUN_ID = /^run-\d{8}T\d{9}Z-\d{4,}$/;

/** A process group a run's executor started; `startTicks` tells a reused pid apart. */
export const processGroupSchema = z.object({
  pgid: z.number().int().min(2),
  startTicks: z.string().optional(),
});

/** A run file's content. */
export const runRecordSchema = z.object({
  id: z.string().regex(RUN_ID),
  pipeline: z.enum(PIPELINES),
  /** The configured source's name (never a payload's URL). */
  source: z.string().min(1).max(253),
  /** The full ref the push named, e.g. `refs/tags/v2.0.0` or `refs/heads/main`. */
  ref: z.string().min(1).max(255),
  /** The object the push said the ref points at (a tag object for an annotated tag). */
  after: objectId.optional(),
  /** The commit the run worked on, once known (the peeled tag, the branch tip). */
  commit: objectId.optional(),
  deliveryId: z.string().min(1).max(200).optional(),
  state: z.enum(RUN_STATES),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().optional(),
  endedAt: z.iso.datetime().optional(),
  /** One line on how it ended (`cancelled`, `already applied`, `step 2 exited with code 3`). */
  reason: z.string().optional(),
  /** Path-named errors of an invalid input, one per entry. */
  errors: z.array(z.string()).optional(),
  artifact: z.object({ tag: z.string(), digest: z.string() }).optional(),
  /** The interrupted run this one re-queues after a restart. */
  requeuedFrom: z.string().regex(RUN_ID).optional(),
  /** The run whose inputs a rerun copied. */
  rerunOf: z.string().regex(RUN_ID).optional(),
  /** 1 for a new run, 2 for the one re-queued after an interruption. */
  attempt: z.number().int().min(1),
  processGroups: z.array(processGroupSchema).optional(),
});

/** A stored run. */
export type RunRecord = z.infer<typeof runRecordSchema>;

/** What starts a run. */
export interface RunInput {
  readonly pipeline: PipelineKind;
  readonly source: string;
  readonly ref: string;
  readonly after?: string;
  readonly deliveryId?: string;
}

/**
 * The id after `previous` for a run created at `now`: the time to the millisecond and a
 * counter, so ids sort by creation and stay unique when two runs share a millisecond or the
 * clock steps back (the previous id's time is reused, with the next counter).
 */
export function nextRunId(previous: string | undefined, now: Date): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  const candidate = `run-${stamp}-0000`;
  if (previous === undefined || compareRunIds(candidate, previous) > 0) return candidate;
  const cut = previous.lastIndexOf('-');
  const counter = Number(previous.slice(cut + 1)) + 1;
  return `${previous.slice(0, cut)}-${String(counter).padStart(4, '0')}`;
}

/** Orders run ids by creation: time first, then the counter as a number. */
export function compareRunIds(a: string, b: string): number {
  const cutA = a.lastIndexOf('-');
  const cutB = b.lastIndexOf('-');
  const time = a.slice(0, cutA) < b.slice(0, cutB) ? -1 : a.slice(0, cutA) > b.slice(0, cutB) ? 1 : 0;
  return time !== 0 ? time : Number(a.slice(cutA + 1)) - Number(b.slice(cutB + 1));
}
