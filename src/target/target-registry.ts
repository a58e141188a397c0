/**
 * Maps a target kind named in configuration (`process`, `in-memory`, later `kubernetes`) to
 * the factory that builds it. An unknown kind is an error listing the known ones: never a
 * silent fallback to another kind.
 */
import { InMemoryTarget } from '../../test/fakes/in-memory-target.js';
import { ProcessTarget } from './process/process-target.js';
import { TargetError } from './target-error.js';
import type { Target } from './target.js';

/** What every target factory receives. */
export interface TargetContext {
  /** Directory for the target's state (child registry, logs). Created when missing. */
  readonly stateDir: string;
}

/** Builds a target; must not start anything until the target's methods are called. */
export type TargetFactory = (context: TargetContext) => Target;

/** An explicit kind → factory table. */
export class TargetRegistry {
  readonly #factories = new Map<string, TargetFactory>();

  /** Adds a kind; registering a kind twice is a programming error. */
  register(kind: string, factory: TargetFactory): this {
    if (this.#factories.has(kind))
      throw new Error(`target kind ${JSON.stringify(kind)} is already registered`);
    this.#factories.set(kind, factory);
    return this;
  }

  /** Known kinds, sorted. */
  kinds(): readonly string[] {
    return [...this.#factories.keys()].sort();
  }

  /** Builds a target of `kind`; throws `AVIARY_TARGET_UNKNOWN_KIND` naming the known kinds. */
  create(kind: string, context: TargetContext): Target {
    const factory = this.#factories.get(kind);
    if (factory === undefined) {
      throw new TargetError(
        'AVIARY_TARGET_UNKNOWN_KIND',
        `target kind ${JSON.stringify(kind)} is unknown; known kinds: ${this.kinds().join(', ')}`,
      );
    }
    return factory(context);
  }
}

/** A registry with the built-in kinds: `process` and `in-memory`. */
export function builtInTargetRegistry(): TargetRegistry {
  return new TargetRegistry()
    .register('process', (context) => new ProcessTarget({ stateDir: context.stateDir }))
    .register('in-memory', () => new InMemoryTarget());
}
