/**
 * The container port a Canary's Services send to (Flagger's `spec.service.targetPort`).
 */
import type { V1Deployment } from '@kubernetes/client-node';

/**
 * `spec.service.targetPort`: a number, or the name of a container port of the target's pod
 * template (Kubernetes resolves it in each pod); default `port`. A name no container has is an
 * issue naming the ports there are, as the Service would otherwise send nowhere.
 */
export function targetPortOf(
  value: unknown,
  port: number | undefined,
  target: V1Deployment | undefined,
): number | string | undefined | { path: string; message: string } {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return port;
  if (/^\d+$/.test(value)) return Number(value);
  if (target === undefined) return value;
  const named = (target.spec?.template.spec?.containers ?? [])
    .flatMap((c) => c.ports ?? [])
    .flatMap((p) => (p.name !== undefined ? [`${p.name} (${p.containerPort})`] : []));
  if (named.some((n) => n.startsWith(`${value} (`))) return value;
  return {
    path: 'spec.service.targetPort',
    message: `no container port named "${value}" in the pod template of Deployment ${target.metadata?.namespace ?? ''}/${target.metadata?.name ?? ''}; named ports: ${named.join(', ') || 'none'}`,
  };
}
