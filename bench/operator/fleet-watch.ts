/**
 * What the bench sees of a fleet, from its own watches of the namespace's Canaries and
 * Deployments (arrival time of each watch event at the bench): each Canary's phase, and for
 * each member the first write of the operator after the member's image patch — the first
 * change of its Canary's status, and the target Deployment's replicas going from 0 up (the
 * operator scaling the target to start the canary). The Canary status is written only by
 * the operator; so is the target's `spec.replicas` once the fleet is initialized.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from '../../src/kubernetes/kube-api.js';

interface CanaryLike extends KubernetesObject {
  status?: { phase?: string };
}

interface DeploymentLike extends KubernetesObject {
  spec?: { replicas?: number };
}

/** One member as the bench saw it. */
export interface MemberView {
  phase: string | undefined;
  /** The Canary's latest resourceVersion seen. */
  version?: string | undefined;
  /** resourceVersion of the Canary at its image patch. */
  versionAtPatch?: string | undefined;
  /** When the bench sent the member's image patch (performance.now(), ms). */
  patchedAt?: number;
  /** First Canary watch event with a new resourceVersion after `patchedAt`. */
  statusWrittenAt?: number;
  /** First Deployment watch event after `patchedAt` with spec.replicas > 0 (target was at 0). */
  targetScaledAt?: number;
  /** First event with a terminal phase after `patchedAt`. */
  finishedAt?: number;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);

/** True for a phase a rollout ends in. */
export function isTerminal(phase: string | undefined): boolean {
  return phase !== undefined && TERMINAL.has(phase);
}

/** Watches of a namespace's Canaries and Deployments, kept up to date until `stop`. */
export class FleetWatch {
  readonly members = new Map<string, MemberView>();
  /** spec.replicas of each Deployment of the namespace, as last seen. */
  readonly #replicas = new Map<string, number>();
  #watches: AbortController[] = [];
  #stopped = false;

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
  ) {}

  member(name: string): MemberView {
    let view = this.members.get(name);
    if (view === undefined) this.members.set(name, (view = { phase: undefined }));
    return view;
  }

  /** Records that the member's image patch is being sent now. */
  markPatched(name: string): void {
    const view = this.member(name);
    view.versionAtPatch = view.version;
    view.patchedAt = performance.now();
  }

  async start(): Promise<void> {
    await this.#watch('/apis/aviary.dev/v1alpha1/namespaces/NS/canaries', (object) => this.#onCanary(object));
    await this.#watch('/apis/apps/v1/namespaces/NS/deployments', (object) => this.#onDeployment(object));
  }

  /** Reads every Canary's phase with a list, in case a watch event was lost meanwhile. */
  async refresh(): Promise<void> {
    const canaries = await this.api.list<CanaryLike>('aviary.dev/v1alpha1', 'Canary', this.namespace);
    const now = performance.now();
    for (const canary of canaries) this.#onCanary(canary, now);
  }

  /** Members by phase. */
  phases(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const view of this.members.values()) {
      const phase = view.phase ?? 'none';
      counts[phase] = (counts[phase] ?? 0) + 1;
    }
    return counts;
  }

  stop(): void {
    this.#stopped = true;
    for (const watch of this.#watches) watch.abort();
  }

  async #watch(pathTemplate: string, onObject: (object: KubernetesObject) => void): Promise<void> {
    const path = pathTemplate.replace('NS', this.namespace);
    const begin = async (): Promise<void> => {
      const watch = await this.api.watch(
        path,
        {},
        (type, object) => {
          if (type !== 'DELETED') onObject(object);
        },
        () => {
          // The API server ends watches now and then; start again while the bench runs.
          if (!this.#stopped) setTimeout(() => void begin().catch(() => undefined), 200);
        },
      );
      this.#watches.push(watch);
    };
    await begin();
  }

  #onCanary(canary: CanaryLike, now = performance.now()): void {
    const name = canary.metadata?.name;
    if (name === undefined) return;
    const view = this.member(name);
    view.phase = canary.status?.phase;
    view.version = canary.metadata?.resourceVersion;
    if (view.patchedAt === undefined) return;
    if (view.statusWrittenAt === undefined && canary.metadata?.resourceVersion !== view.versionAtPatch)
      view.statusWrittenAt = now;
    if (view.finishedAt === undefined && isTerminal(view.phase)) view.finishedAt = now;
  }

  #onDeployment(deployment: DeploymentLike): void {
    const name = deployment.metadata?.name;
    if (name === undefined) return;
    const replicas = deployment.spec?.replicas ?? 0;
    const before = this.#replicas.get(name);
    this.#replicas.set(name, replicas);
    const view = this.members.get(name);
    if (view?.patchedAt !== undefined && view.targetScaledAt === undefined && before === 0 && replicas > 0)
      view.targetScaledAt = performance.now();
  }
}
