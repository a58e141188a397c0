/**
 * Built-in manual gates: the state behind `aviary:gate` webhooks. A gate per (app, gate type)
 * is opened or closed through the control API, so approving a promotion needs no load tester
 * deployment. Semantics follow the Flagger load tester's `/gate/open|close|check` and
 * `/rollback/open|close|check` (a gate nobody touched is closed), with one addition: a gate can
 * be one-shot, closing itself once the transition it guards has happened.
 * State is plain data, persisted with `toJSON` / `fromJSON`.
 */
import { z } from 'zod';
import { AviaryError } from '../../errors.js';
import { GATE_TYPES, type GateType } from '../../config/app-webhook.js';
import { parseOrThrow } from '../../config/schema-issues.js';

/**
 * `sticky`: stays open until closed (the load tester's only behaviour).
 * `one-shot`: closes when {@link GateStore.consume} reports that the guarded transition happened.
 */
export type GateMode = 'sticky' | 'one-shot';

/**
 * Mode used when `open` is called without one. Confirm gates are sticky, as in Flagger.
 * The rollback gate is one-shot: a sticky open rollback gate would roll back every later
 * release on its first tick, a trap Flagger users must remember to close by hand.
 */
export const DEFAULT_GATE_MODES: Readonly<Record<GateType, GateMode>> = {
  'confirm-rollout': 'sticky',
  'confirm-traffic-increase': 'sticky',
  'confirm-promotion': 'sticky',
  rollback: 'one-shot',
};

/** Entries of history kept per gate (oldest dropped first). */
export const GATE_HISTORY_LIMIT = 20;

/** One recorded change: who did what, when and why. */
export interface GateChange {
  readonly action: 'open' | 'close' | 'consume';
  /** Who made the change: a user name from the control API, or `aviary` for consumption. */
  readonly by: string;
  /** ISO 8601 time of the change. */
  readonly at: string;
  readonly reason?: string;
}

/** The state of one gate. */
export interface GateState {
  /** App id, as made by {@link gateAppId}. */
  readonly app: string;
  readonly gate: GateType;
  readonly open: boolean;
  readonly mode: GateMode;
  /** Changes, oldest first, at most {@link GATE_HISTORY_LIMIT}; empty for a gate never touched. */
  readonly history: readonly GateChange[];
}

/** Serialised form of a {@link GateStore}. */
export interface GateStoreJson {
  readonly version: 1;
  readonly gates: readonly GateState[];
}

/** Who asks for a change, and why. `by` is required so every change is attributable. */
export interface GateRequest {
  readonly by: string;
  readonly reason?: string | undefined;
}

/**
 * The app id gates are keyed by: `name.namespace`, the load tester's key format, or `name`
 * when the namespace is empty.
 */
export function gateAppId(name: string, namespace: string): string {
  return namespace === '' ? name : `${name}.${namespace}`;
}

const changeSchema = z.strictObject({
  action: z.enum(['open', 'close', 'consume']),
  by: z.string().min(1),
  at: z.iso.datetime(),
  reason: z.string().optional(),
});

const storeSchema = z.strictObject({
  version: z.literal(1),
  gates: z.array(
    z.strictObject({
      app: z.string().min(1),
      gate: z.enum(GATE_TYPES),
      open: z.boolean(),
      mode: z.enum(['sticky', 'one-shot']),
      history: z.array(changeSchema),
    }),
  ),
});

/** Holds every gate's state. Not shared across processes; persist with {@link GateStore.toJSON}. */
export class GateStore {
  readonly #gates = new Map<string, GateState>();
  readonly #now: () => number;

  /** @param now Wall clock in Unix milliseconds, for change records. Default `Date.now`. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Current state; a gate never touched is closed, in its default mode, with no history. */
  get(app: string, gate: GateType): GateState {
    return (
      this.#gates.get(key(app, gate)) ?? {
        app,
        gate,
        open: false,
        mode: DEFAULT_GATE_MODES[gate],
        history: [],
      }
    );
  }

  /** True when the gate is open. */
  isOpen(app: string, gate: GateType): boolean {
    return this.get(app, gate).open;
  }

  /** Opens a gate. `mode` defaults to {@link DEFAULT_GATE_MODES}; opening an open gate re-records it. */
  open(app: string, gate: GateType, request: GateRequest & { mode?: GateMode | undefined }): GateState {
    return this.#change(app, gate, 'open', request, request.mode ?? DEFAULT_GATE_MODES[gate]);
  }

  /** Closes a gate (halts the rollout at this gate until reopened). */
  close(app: string, gate: GateType, request: GateRequest): GateState {
    return this.#change(app, gate, 'close', request, this.get(app, gate).mode);
  }

  /**
   * Reports that the transition a gate guards has happened (rollout started, weight advanced,
   * promotion started, rollback done). An open one-shot gate closes; a sticky gate is
   * untouched. Returns true when the gate closed.
   */
  consume(app: string, gate: GateType, reason = `consumed by ${gate}`): boolean {
    const state = this.get(app, gate);
    if (!state.open || state.mode !== 'one-shot') return false;
    this.#change(app, gate, 'consume', { by: 'aviary', reason }, state.mode);
    return true;
  }

  /** Every gate that has been touched, optionally for one app, sorted by app then gate. */
  list(app?: string): GateState[] {
    return [...this.#gates.values()]
      .filter((state) => app === undefined || state.app === app)
      .sort((a, b) => a.app.localeCompare(b.app) || a.gate.localeCompare(b.gate));
  }

  /** Plain-data snapshot, safe to `JSON.stringify`. */
  toJSON(): GateStoreJson {
    return { version: 1, gates: this.list() };
  }

  /**
   * Rebuilds a store from {@link GateStore.toJSON} output.
   * @throws ConfigError (`AVIARY_CONFIG_INVALID`) naming each bad field.
   */
  static fromJSON(json: unknown, options: { now?: () => number } = {}): GateStore {
    const parsed = parseOrThrow(storeSchema, json, 'gate store state');
    const store = new GateStore(options);
    for (const state of parsed.gates) {
      const history = state.history.map(({ reason, ...rest }) =>
        reason === undefined ? rest : { ...rest, reason },
      );
      store.#gates.set(key(state.app, state.gate), { ...state, history });
    }
    return store;
  }

  #change(
    app: string,
    gate: GateType,
    action: GateChange['action'],
    request: GateRequest,
    mode: GateMode,
  ): GateState {
    if (request.by.trim() === '') {
      throw new AviaryError(
        'AVIARY_GATE_ACTOR_MISSING',
        `gate ${gate} of ${app}: "by" must name who ${action}s it`,
      );
    }
    const change: GateChange = {
      action,
      by: request.by,
      at: new Date(this.#now()).toISOString(),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    };
    const history = [...this.get(app, gate).history, change].slice(-GATE_HISTORY_LIMIT);
    const state: GateState = { app, gate, open: action === 'open', mode, history };
    this.#gates.set(key(app, gate), state);
    return state;
  }
}

function key(app: string, gate: GateType): string {
  return `${app}\u0000${gate}`;
}
