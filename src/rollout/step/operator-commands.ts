/**
 * Operator commands queued through the control API, applied in order at the start of a
 * step: promote (skip the remaining steps and gates), abort (roll back now), pause and
 * resume, set the weights by hand. A command that makes no sense in the current phase is
 * recorded as ignored, never applied halfway.
 */
import type { OperatorCommand } from './observations.js';
import type { RolloutPhase, RolloutStatus } from './rollout-status.js';
import type { StepDraft } from './step-draft.js';
import { promote, rollback } from './transitions.js';
import { strategyOf, TOTAL_WEIGHT } from './weights.js';

const ABORTABLE: readonly RolloutPhase[] = ['Waiting', 'Progressing', 'WaitingPromotion', 'Promoting'];
const PROMOTABLE: readonly RolloutPhase[] = ['Waiting', 'Progressing', 'WaitingPromotion'];

/**
 * Why `command` makes no sense in the phase of `status`, or undefined when it applies there.
 * The step ignores such a command; the control API refuses it up front when nothing is queued
 * before it, so the operator learns at once.
 */
export function commandIgnoredReason(
  command: OperatorCommand,
  status: Pick<RolloutStatus, 'phase' | 'paused'>,
): string | undefined {
  switch (command.kind) {
    case 'pause':
      return status.paused ? 'already paused' : undefined;
    case 'resume':
      return status.paused ? undefined : 'not paused';
    case 'abort':
      return ABORTABLE.includes(status.phase) ? undefined : `nothing to abort in phase ${status.phase}`;
    case 'promote':
      return PROMOTABLE.includes(status.phase) ? undefined : `nothing to promote in phase ${status.phase}`;
    case 'set-weights':
      return status.phase === 'Progressing' || status.phase === 'WaitingPromotion'
        ? undefined
        : `no weighted analysis in phase ${status.phase}`;
  }
}

function ignore(d: StepDraft, command: OperatorCommand, why: string): void {
  d.event('CommandIgnored', `Ignored ${command.kind} for ${d.name}: ${why}`, 'warning');
}

function apply(d: StepDraft, command: OperatorCommand): void {
  const s = d.status;
  const why = commandIgnoredReason(command, s);
  if (why !== undefined) return ignore(d, command, why);
  switch (command.kind) {
    case 'pause':
      s.paused = true;
      d.event('Paused', `Rollout of ${d.name} paused by operator in phase ${s.phase}`);
      return;
    case 'resume':
      s.paused = false;
      // The time spent paused is not a lack of progress, and the next check is due now.
      d.progressed();
      s.nextCheckAt = d.now;
      d.event('Resumed', `Rollout of ${d.name} resumed by operator`);
      return;
    case 'abort':
      return rollback(d, {
        reason: 'OperatorAborted',
        message: `Rolling back ${d.name}: aborted by operator${command.reason === undefined ? '' : ` (${command.reason})`}`,
        alert: { severity: 'warn', message: 'Canary rolled back by operator.' },
      });
    case 'promote':
      s.paused = false;
      d.event('OperatorPromoted', `Promotion of ${d.name} revision ${s.lastAppliedSpec} forced by operator`);
      promote(d, 'operator');
      return;
    case 'set-weights': {
      if (strategyOf(d.analysis) !== 'canary')
        return ignore(d, command, 'weights apply to weighted canaries only');
      const weight = Math.min(TOTAL_WEIGHT, Math.max(0, Math.round(command.canaryWeight)));
      if (!Number.isFinite(weight)) return ignore(d, command, 'canaryWeight is not a number');
      d.route(weight);
      if (weight < d.analysis.maxWeight) d.setPhase('Progressing');
      d.progressed();
      d.event('WeightsSet', `Canary weight of ${d.name} set to ${weight} by operator`);
      return;
    }
  }
}

/** Applies the queued commands in order. */
export function applyCommands(d: StepDraft): void {
  for (const command of d.observations.commands) apply(d, command);
}
