/**
 * The one shape every engine family shares: routers, targets, metric providers and
 * notifiers each keep an explicit table of kind → factory. The table is typed by the
 * family's kinds as the configuration schema lists them (src/config), so a kind named there
 * without a factory here fails to compile, and an unknown kind at run time is an error that
 * lists the known ones — never a silent fall-back to another engine (a fault STYLE.md names
 * in Flagger's provider factory).
 */
import type { ErrorCode } from './error-catalogue.js';
import { AviaryError } from './errors.js';

/** Builds one engine of a kind from its settings and what the composition root hands in. */
export type EngineFactory<Spec, Context, Product> = (spec: Spec, context: Context) => Product;

/** A family's kind → factory table. */
export class Registry<Kind extends string, Spec, Context, Product> {
  readonly #factories: Readonly<Record<Kind, EngineFactory<Spec, Context, Product>>>;

  /**
   * @param family what the kinds are kinds of, for messages (`router`, `alert provider`).
   * @param field the configuration field that names the kind (`router.kind`).
   * @param unknownCode the error code of an unknown kind.
   */
  constructor(
    readonly family: string,
    readonly field: string,
    private readonly unknownCode: ErrorCode,
    factories: Readonly<Record<Kind, EngineFactory<Spec, Context, Product>>>,
  ) {
    this.#factories = factories;
  }

  /** Every registered kind, in the table's order. */
  kinds(): Kind[] {
    return Object.keys(this.#factories) as Kind[];
  }

  /** Whether `kind` is registered. */
  has(kind: string): kind is Kind {
    return Object.hasOwn(this.#factories, kind);
  }

  /**
   * Builds an engine of `kind`.
   * @throws AviaryError with the family's unknown-kind code, naming the field and the known kinds.
   */
  create(kind: string, spec: Spec, context: Context): Product {
    if (!this.has(kind)) {
      throw new AviaryError(
        this.unknownCode,
        `${this.field}: unknown ${this.family} kind ${JSON.stringify(kind)}; known kinds: ${this.kinds().join(', ')}`,
      );
    }
    return this.#factories[kind](spec, context);
  }
}
