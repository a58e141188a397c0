/**
 * Carries out the commands a Canary's annotations request (canary-annotations.ts), then
 * removes those annotations from that version of the Canary (docs/adr/0021). Each request
 * goes through the controller exactly as the control API's would, so it is refused for the
 * same reasons and leaves the same Events; a malformed or refused one becomes a Warning Event
 * on the Canary, and its annotation is removed all the same, so nothing is retried forever.
 */
import { AviaryError } from '../errors.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import type { RolloutController } from '../rollout/controller/controller.js';
import { readCommands, type AnnotationReading } from './canary-annotations.js';
import { CANARY_API_VERSION, type CanaryObject } from './canary-app.js';

/** What {@link CanaryCommands} needs. */
export interface CanaryCommandsDeps {
  readonly controller: Pick<RolloutController, 'command' | 'setGate'>;
  readonly api: Pick<KubeApi, 'mergePatch'>;
  /** Records a Warning Event on the Canary `app`. */
  readonly warn: (app: string, reason: string, message: string) => Promise<void>;
}

/** Handles the command annotations of the Canaries it is shown. */
export class CanaryCommands {
  /**
   * Requests carried out whose annotation is not removed yet (the removal failed, e.g. the
   * Canary changed meanwhile), by Canary uid then annotation, with the value: seen again, they
   * are only removed, never carried out twice.
   */
  readonly #done = new Map<string, Map<string, string>>();

  constructor(private readonly deps: CanaryCommandsDeps) {}

  /** Carries out the Canary's command annotations, if any, then removes them. */
  async handle(canary: CanaryObject): Promise<void> {
    const metadata = canary.metadata ?? {};
    const readings = readCommands(metadata.annotations);
    const name = metadata.name ?? '';
    const key = metadata.uid ?? name;
    if (readings.length === 0) {
      this.#done.delete(key);
      return;
    }
    const done = this.#done.get(key) ?? new Map<string, string>();
    this.#done.set(key, done);
    let carriedOut = false;
    for (const reading of readings) {
      if (done.get(reading.annotation) === reading.value) continue;
      carriedOut = true;
      await this.#carryOut(name, reading);
      done.set(reading.annotation, reading.value);
    }
    try {
      await this.deps.api.mergePatch({
        apiVersion: CANARY_API_VERSION,
        kind: 'Canary',
        metadata: {
          name,
          ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
          // Only this version: a value written since is a new request, read at its own change.
          ...(metadata.resourceVersion !== undefined ? { resourceVersion: metadata.resourceVersion } : {}),
          annotations: Object.fromEntries(readings.map((r) => [r.annotation, null])),
        },
      } as unknown as CanaryObject);
      this.#done.delete(key);
    } catch (error) {
      // A conflict means the Canary changed: its change is read next, and `done` keeps the
      // requests from being repeated. Anything else (e.g. no `patch` permission) is said when
      // the requests are carried out, not again at each later change of the Canary.
      const conflict = error instanceof Error && /\(HTTP 409\)/.test(error.message);
      if (!conflict && carriedOut) {
        await this.deps.warn(
          name,
          'CommandNotCleared',
          `carried out ${readings.map((r) => r.annotation).join(', ')} but could not remove the annotation: ${(error as Error).message}`,
        );
      }
    }
  }

  async #carryOut(app: string, reading: AnnotationReading): Promise<void> {
    const by = `annotation ${reading.annotation}`;
    try {
      if (reading.problem !== undefined)
        throw new AviaryError('AVIARY_BAD_REQUEST', `${reading.annotation}: ${reading.problem}`);
      for (const request of reading.requests) {
        if (request.kind === 'gate') await this.deps.controller.setGate(app, request.gate, request.open, by);
        else this.deps.controller.command(app, request.command, by);
      }
    } catch (error) {
      // A command the ended rollout would ignore is already a CommandIgnored Event.
      if (error instanceof AviaryError && error.code === 'AVIARY_CONFLICT') return;
      await this.deps.warn(
        app,
        'CommandRefused',
        `${reading.annotation}="${reading.value}" refused: ${(error as Error).message}`,
      );
    }
  }
}
