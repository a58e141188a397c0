/**
 * The `deployment` workload: one version of an app as a Kubernetes Deployment runs it. The
 * operator builds it from a Canary and its target Deployment (docs/adr/0019); it has no block
 * in aviary.yaml, where nothing would give Aviary a cluster. The pod template is kept as the
 * API server returned it, as plain JSON, so this layer depends on no Kubernetes client.
 */

/** The Service ports of an app (Flagger's `spec.service`). */
export interface DeploymentServicePorts {
  /** Apex Service name (`spec.service.name`, default the target's name). */
  readonly name: string;
  readonly port: number;
  /**
   * Container port the Services send to (`spec.service.targetPort`, default `port`): a number,
   * or the name of a container port, resolved in each pod as Kubernetes does.
   */
  readonly targetPort: number | string;
  /** Port name (`spec.service.portName`, default `http`). */
  readonly portName: string;
}

/** The object that owns what the operator creates for an app: its Canary. */
export interface DeploymentOwner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** One version of an app run as a Kubernetes Deployment (workload kind `deployment`). */
export interface DeploymentSpec {
  readonly kind: 'deployment';
  readonly namespace: string;
  /** The target Deployment (`spec.targetRef.name`): it runs the canary. */
  readonly targetName: string;
  /** The target's `spec.selector.matchLabels`; the primary's are these with `-primary` appended. */
  readonly selector: Readonly<Record<string, string>>;
  /** The version's pod template (`spec.template`), as JSON. */
  readonly template: Readonly<Record<string, unknown>>;
  readonly replicas: number;
  readonly service: DeploymentServicePorts;
  readonly owner: DeploymentOwner;
}
