/**
 * What the controller keeps per app between ticks, and its durable form: the status, the
 * recent events with their evidence, the route action in force and the version specs of
 * recent revisions (so a rollback can restore an older primary).
 */
import type { AppSpec } from '../../config/app-schema.js';
import { AviaryError } from '../../errors.js';
import type { DesiredVersion, VersionSpec } from '../../target/target.js';
import type { RolloutSpec } from '../step/rollout-spec.js';
import type { AppRouting, RolloutEventRecord } from './action-executor.js';
import type { CheckResults, OperatorCommand } from '../step/observations.js';
import type { RolloutStatus } from '../step/rollout-status.js';
import type { StoredState } from '../state/state-journal.js';

/** Events kept per app in memory and in the state journal. */
export const EVENT_HISTORY = 500;
/** Revisions whose version spec is kept, so a rollback can restore an older primary. */
export const SPEC_HISTORY = 5;

/**
 * The state document saved per app at every tick that changed it, in the state journal
 * (ADR 0009); the events go beside it, only the new ones at each save.
 */
export interface PersistedRollout {
  readonly status: RolloutStatus | undefined;
  readonly specs: Readonly<Record<string, VersionSpec>>;
  readonly routing: AppRouting['lastAction'] | undefined;
  readonly lastChecks: CheckResults | undefined;
}

/** Why an app's state could not be saved, since when (ms) and how many saves failed (state-writes.ts). */
export interface StateWriteFailure {
  /** The errno (`ENOSPC`, `EROFS`...) or `EUNKNOWN`. */
  readonly code: string;
  /** The file the failed write was for, when the store names one. */
  readonly path?: string;
  readonly message: string;
  readonly since: number;
  attempts: number;
}

/** The controller's live state of one app. */
export interface AppRecord {
  spec: AppSpec;
  /** What the state machine sees of `spec`: set with it by {@link rememberSpec}. */
  rollout: RolloutSpec;
  status: RolloutStatus | undefined;
  events: RolloutEventRecord[];
  /** Events not yet handed to the state journal, oldest first. */
  unsaved: RolloutEventRecord[];
  /** Replaced, never edited (see {@link rememberSpec}). */
  specs: Readonly<Record<string, VersionSpec>>;
  routing: AppRouting;
  lastChecks: CheckResults | undefined;
  /** When the judge was last asked (a look or a check tick); in memory only, so a restart looks at once. */
  lastLookAt: number | undefined;
  commands: OperatorCommand[];
  /** Set while the app's state cannot be saved: the rollout holds (state-writes.ts). In memory only. */
  stateWriteFailure: StateWriteFailure | undefined;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  again: boolean;
}

/** How the target identifies a version spec (`Target.identify`). */
export type IdentifyVersion = (spec: VersionSpec) => DesiredVersion;

/** What the state machine sees of `spec`. */
export function rolloutSpecOf(spec: AppSpec, identify: IdentifyVersion): RolloutSpec {
  return { name: spec.name, canary: spec.canary, desired: identify(spec.workload) };
}

/** A record for `spec`, resumed from what was saved, when anything was. */
export function newAppRecord(
  spec: AppSpec,
  saved: StoredState<PersistedRollout, RolloutEventRecord> | undefined,
  identify: IdentifyVersion,
): AppRecord {
  return {
    spec,
    rollout: rolloutSpecOf(spec, identify),
    status: saved?.state.status,
    events: [...(saved?.events ?? [])],
    unsaved: [],
    specs: { ...(saved?.state.specs ?? {}) },
    routing: {
      lastAction: saved?.state.routing ?? {
        kind: 'set-routes',
        primaryWeight: 100,
        canaryWeight: 0,
        mirror: false,
        abTesting: false,
      },
    },
    lastChecks: saved?.state.lastChecks,
    lastLookAt: undefined,
    commands: [],
    stateWriteFailure: undefined,
    timer: undefined,
    running: undefined,
    again: false,
  };
}

/**
 * Makes `spec` the record's spec and keeps the workload of its revision, dropping the oldest
 * ones no role still needs. A new object when anything changes, never an edit of the old
 * one: the state journal keeps the last saved document, `specs` included, to tell what
 * changed (ADR 0010).
 */
export function rememberSpec(record: AppRecord, spec: AppSpec, identify: IdentifyVersion): void {
  if (record.spec !== spec) {
    record.spec = spec;
    record.rollout = rolloutSpecOf(spec, identify);
  }
  const revision = record.rollout.desired.revision;
  if (record.specs[revision] === spec.workload) return;
  const specs: Record<string, VersionSpec> = { ...record.specs, [revision]: spec.workload };
  const keys = Object.keys(specs);
  const keep = new Set([
    revision,
    record.status?.primaryRevision,
    record.status?.canaryRevision,
    record.status?.lastPromotedSpec,
  ]);
  for (const key of keys.slice(0, Math.max(0, keys.length - SPEC_HISTORY))) {
    if (!keep.has(key)) delete specs[key];
  }
  record.specs = specs;
}

/** The version spec of `revision`. */
export function specFor(record: AppRecord, revision: string): VersionSpec {
  const found = record.specs[revision];
  if (!found) {
    throw new AviaryError(
      'AVIARY_ROLLOUT_UNKNOWN_REVISION',
      `app ${record.spec.name}: no version spec kept for revision ${revision}`,
    );
  }
  return found;
}

/** An event about `app` now, in the phase and at the weight `record` is in (none without a record). */
export function eventOf(
  record: AppRecord | undefined,
  app: string,
  at: number,
  reason: string,
  message: string,
  severity: RolloutEventRecord['severity'] = 'info',
): RolloutEventRecord {
  return {
    at,
    app,
    reason,
    message,
    severity,
    phase: record?.status?.phase ?? '',
    canaryWeight: record?.status?.canaryWeight ?? 0,
  };
}

/**
 * Appends an event (with the last check results as evidence when it has none), keeping the
 * history bounded; returns the event as kept.
 */
export function appendEvent(record: AppRecord, event: RolloutEventRecord): RolloutEventRecord {
  const kept =
    event.evidence === undefined && record.lastChecks ? { ...event, evidence: record.lastChecks } : event;
  record.events.push(kept);
  record.unsaved.push(kept);
  if (record.events.length > EVENT_HISTORY) record.events.splice(0, record.events.length - EVENT_HISTORY);
  if (record.unsaved.length > EVENT_HISTORY) record.unsaved.splice(0, record.unsaved.length - EVENT_HISTORY);
  return kept;
}

/** A read-only view of one rollout for the API and the dashboard. */
export interface RolloutView {
  readonly app: string;
  readonly revision: string;
  readonly status: RolloutStatus | undefined;
  readonly lastChecks: CheckResults | undefined;
  readonly routing: AppRouting['lastAction'];
  readonly pendingCommands: number;
  /** Present while the app's state cannot be saved and the rollout holds. */
  readonly stateWriteFailure?: StateWriteFailure;
}

/** The view of `record` now. */
export function viewOf(record: AppRecord): RolloutView {
  return {
    app: record.spec.name,
    revision: record.rollout.desired.revision,
    status: record.status,
    lastChecks: record.lastChecks,
    routing: record.routing.lastAction,
    pendingCommands: record.commands.length,
    ...(record.stateWriteFailure ? { stateWriteFailure: { ...record.stateWriteFailure } } : {}),
  };
}

/** The events of `records` after `since` (ms), oldest first. */
export function eventsSince(records: readonly AppRecord[], since: number): RolloutEventRecord[] {
  // Each app's events keep the order they happened in: after a backward jump of the wall clock
  // their times go back (docs/adr/0030-clock-jumps.md), so apps are merged on each one's
  // latest time so far, which never goes back, and the stable sort keeps the rest.
  const keyed = records.flatMap((record) => {
    let latest = Number.NEGATIVE_INFINITY;
    return record.events.map((event) => ({ event, key: (latest = Math.max(latest, event.at)) }));
  });
  return keyed
    .filter(({ event }) => event.at > since)
    .sort((a, b) => a.key - b.key)
    .map(({ event }) => event);
}

/** The state document of a record. */
export function persistedOf(record: AppRecord): PersistedRollout {
  return {
    status: record.status,
    specs: record.specs,
    routing: record.routing.lastAction,
    lastChecks: record.lastChecks,
  };
}
