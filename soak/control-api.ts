/**
 * What the soak reads from the control API of the `aviary up` under soak: one app's rollout
 * (`GET /api/v1/rollouts/{app}`: its revision, phase and canary processes) and the
 * event-loop delay of each Aviary process (`GET /metrics`, src/api/event-loop-delay.ts).
 * Reads are open; the soak never needs the token.
 */
import { SETTLED_PHASES, type RolloutPhase } from '../src/rollout/step/rollout-status.js';

/** One app as the soak follows it. */
export interface AppState {
  /** The revision the controller wants (changes once it has read a saved file). */
  readonly revision: string;
  readonly phase: RolloutPhase | undefined;
  /** The revision the primary runs. */
  readonly primaryRevision: string | undefined;
  /** Settled on `revision`: taken up, primary only, every canary process gone. */
  readonly settled: boolean;
}

/** The fields of `GET /api/v1/rollouts/{app}` the soak reads. */
interface RolloutAnswer {
  readonly revision: string;
  readonly status?: {
    readonly phase: RolloutPhase;
    readonly primaryRevision: string;
    readonly canaryRevision: string | null;
    readonly lastAppliedSpec: string;
  };
  readonly processes?: { readonly canary: { readonly replicas: readonly unknown[] } | null };
}

/** `app` as the control API at `controlUrl` shows it now. */
export async function appState(controlUrl: string, app: string): Promise<AppState> {
  const url = `${controlUrl}/api/v1/rollouts/${app}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  const view = (await res.json()) as RolloutAnswer;
  const status = view.status;
  const canaryReplicas = view.processes?.canary?.replicas ?? [];
  return {
    revision: view.revision,
    phase: status?.phase,
    primaryRevision: status?.primaryRevision,
    settled:
      status !== undefined &&
      SETTLED_PHASES.includes(status.phase) &&
      status.lastAppliedSpec === view.revision &&
      status.canaryRevision === null &&
      canaryReplicas.length === 0,
  };
}

/** Event-loop delay p99 of each Aviary process that reports one, ms, by role (`up`, `proxy`). */
export async function eventLoopP99Ms(controlUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${controlUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const found: Record<string, number> = {};
  const families = { up: 'aviary_controller', proxy: 'aviary_proxy' };
  for (const [role, prefix] of Object.entries(families)) {
    const line = new RegExp(`^${prefix}_event_loop_delay_seconds\\{quantile="0\\.99"\\} (\\S+)$`, 'm').exec(
      text,
    );
    if (line?.[1] !== undefined) found[role] = Number(line[1]) * 1000;
  }
  return found;
}
