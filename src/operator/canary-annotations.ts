/**
 * Commands given with kubectl alone (docs/adr/0021-commands-on-kubernetes.md): an annotation
 * on the Canary is a one-shot request, which the operator carries out and then removes.
 *
 *   kubectl annotate canary podinfo aviary.dev/promote=
 *   kubectl annotate canary podinfo aviary.dev/abort='error budget spent'
 *   kubectl annotate canary podinfo aviary.dev/pause= / aviary.dev/resume=
 *   kubectl annotate canary podinfo aviary.dev/canary-weight=30
 *   kubectl annotate canary podinfo aviary.dev/open-gate=confirm-promotion
 *   kubectl annotate canary podinfo aviary.dev/close-gate=confirm-promotion,rollback
 *
 * This module only reads the annotations: which requests they make, in the order they are
 * carried out, and which ones are malformed. Pure, so every case is a unit test.
 */
import { GATE_TYPES, isGateType, type GateType } from '../config/app-webhook.js';
import type { OperatorCommand } from '../rollout/step/observations.js';

/** The annotation prefix of every command. */
export const COMMAND_PREFIX = 'aviary.dev/';

/** Command annotations in the order a Canary's requests are carried out: gates first, so an
 * `open-gate` given with `resume` is open when the resumed rollout reaches the gate. */
export const COMMAND_ANNOTATIONS = [
  'aviary.dev/close-gate',
  'aviary.dev/open-gate',
  'aviary.dev/pause',
  'aviary.dev/resume',
  'aviary.dev/canary-weight',
  'aviary.dev/promote',
  'aviary.dev/abort',
] as const;

/** One of {@link COMMAND_ANNOTATIONS}. */
export type CommandAnnotation = (typeof COMMAND_ANNOTATIONS)[number];

/** What one annotation asks for. */
export type CanaryRequest =
  | { readonly kind: 'command'; readonly command: OperatorCommand }
  | { readonly kind: 'gate'; readonly gate: GateType; readonly open: boolean };

/** One annotation read: its requests, or why it asks for nothing. */
export interface AnnotationReading {
  readonly annotation: CommandAnnotation;
  readonly value: string;
  readonly requests: readonly CanaryRequest[];
  /** Set when the value is malformed; `requests` is then empty. */
  readonly problem?: string;
}

/** True when `annotations` holds at least one command (a cheap test for every Canary change). */
export function hasCommands(annotations: Readonly<Record<string, string>> | undefined): boolean {
  return annotations !== undefined && COMMAND_ANNOTATIONS.some((key) => key in annotations);
}

/** The command annotations present, in the order they are carried out. */
export function readCommands(annotations: Readonly<Record<string, string>> | undefined): AnnotationReading[] {
  const readings: AnnotationReading[] = [];
  for (const annotation of COMMAND_ANNOTATIONS) {
    const value = annotations?.[annotation];
    if (value === undefined) continue;
    readings.push({ annotation, value, ...read(annotation, value.trim()) });
  }
  return readings;
}

function read(annotation: CommandAnnotation, value: string): { requests: CanaryRequest[]; problem?: string } {
  const command = (c: OperatorCommand) => ({ requests: [{ kind: 'command' as const, command: c }] });
  switch (annotation) {
    case 'aviary.dev/promote':
      return command({ kind: 'promote' });
    case 'aviary.dev/pause':
      return command({ kind: 'pause' });
    case 'aviary.dev/resume':
      return command({ kind: 'resume' });
    case 'aviary.dev/abort':
      return command(value === '' ? { kind: 'abort' } : { kind: 'abort', reason: value });
    case 'aviary.dev/canary-weight': {
      const weight = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
      if (!(weight >= 0 && weight <= 100))
        return { requests: [], problem: `expected a whole number from 0 to 100, got "${value}"` };
      return command({ kind: 'set-weights', canaryWeight: weight });
    }
    case 'aviary.dev/open-gate':
    case 'aviary.dev/close-gate': {
      const names = value.split(',').map((name) => name.trim());
      const unknown = names.filter((name) => !isGateType(name));
      if (unknown.length > 0)
        return {
          requests: [],
          problem: `expected gate names separated by commas, from ${GATE_TYPES.join(', ')}; got "${value}"`,
        };
      const open = annotation === 'aviary.dev/open-gate';
      return { requests: [...new Set(names as GateType[])].map((gate) => ({ kind: 'gate', gate, open })) };
    }
  }
}
