/**
 * Reads every Canary of the namespace, with its target Deployment, as the apps the controller
 * runs (canary-app.ts), and says on each Canary how that went: `Ready=False` with the reason
 * when it cannot be run (a missing Deployment, a bad field), `Ready=True` again once it can,
 * and the fields without effect in `status.ignoredFields`. Each is written only when it
 * changes, so a Canary read again at every change of another costs no write.
 */
import type { AppSpec } from '../config/app-schema.js';
import { ConfigError } from '../config/config-error.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import type { ObjectCacheOf } from '../kubernetes/object-cache.js';
import type { HttpRouteOptions } from '../router/gateway-api/http-route.js';
import type { DeploymentTarget } from '../target/kubernetes/deployment-target.js';
import { CANARY_API_VERSION, canaryApp, type CanaryObject } from './canary-app.js';

/** What {@link CanaryReader} reads from and writes to. */
export interface CanaryReaderOptions {
  readonly api: KubeApi;
  readonly namespace: string;
  readonly canaries: ObjectCacheOf<CanaryObject>;
  readonly target: DeploymentTarget;
  /** Shortest `analysis.interval` accepted. */
  readonly minAnalysisIntervalMs?: number;
}

/** The Canaries as apps, and the HTTPRoute options of each. */
export class CanaryReader {
  /** The HTTPRoute of each Canary read, by name. */
  readonly routes = new Map<string, HttpRouteOptions>();
  /** Canaries whose last reading failed, by name, with the message written to their status. */
  readonly #refused = new Map<string, string>();
  /** The ignored fields last written to each Canary's `status.ignoredFields`, as JSON. */
  readonly #reportedIgnored = new Map<string, string>();

  constructor(private readonly options: CanaryReaderOptions) {}

  /** Every Canary the operator can run, as an app; the others say why on their status. */
  async apps(): Promise<AppSpec[]> {
    const { namespace, canaries, target } = this.options;
    const apps: AppSpec[] = [];
    for (const canary of canaries.list(namespace)) {
      const name = canary.metadata?.name ?? '';
      const targetName = (canary.spec?.targetRef as { name?: string } | undefined)?.name ?? '';
      try {
        const primary = target.deployment(namespace, `${targetName}-primary`);
        const read = canaryApp(canary, target.deployment(namespace, targetName), {
          ...(primary !== undefined ? { primary } : {}),
          ...(this.options.minAnalysisIntervalMs !== undefined
            ? { minAnalysisIntervalMs: this.options.minAnalysisIntervalMs }
            : {}),
        });
        this.routes.set(name, read.route);
        apps.push(read.app);
        if (this.#refused.delete(name))
          await this.writeReady(name, true, 'Ready', 'the operator runs this Canary');
        await this.#reportIgnored(name, read.ignored);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const message = error.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
        if (this.#refused.get(name) !== message) {
          this.#refused.set(name, message);
          await this.writeReady(name, false, 'InvalidCanary', message).catch(() => undefined);
        }
      }
    }
    return apps;
  }

  async #reportIgnored(name: string, fields: readonly unknown[]): Promise<void> {
    const ignored = JSON.stringify(fields);
    const reported = this.#reportedIgnored;
    if (reported.get(name) === ignored || (fields.length === 0 && !reported.has(name))) return;
    reported.set(name, ignored);
    await this.#patchStatus(name, { ignoredFields: fields }).catch(() => reported.delete(name));
  }

  /** `status.conditions[type=Ready]` of the Canary `name`. */
  async writeReady(name: string, ready: boolean, reason: string, message: string): Promise<void> {
    const at = new Date().toISOString();
    await this.#patchStatus(name, {
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason,
          message,
          lastUpdateTime: at,
          lastTransitionTime: at,
        },
      ],
    });
  }

  #patchStatus(name: string, status: Record<string, unknown>): Promise<void> {
    const { api, namespace } = this.options;
    return api.patchStatus(
      `/apis/${CANARY_API_VERSION}/namespaces/${namespace}/canaries/${name}`,
      { apiVersion: CANARY_API_VERSION, kind: 'Canary', namespace, name },
      status,
    );
  }
}
