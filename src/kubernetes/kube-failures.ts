/**
 * Objects and failures of the Kubernetes API as kube-api.ts reports them: an object's
 * identity (`ObjectRef`) and how it reads in a message, and a failed call turned into an
 * `AviaryError` that names the object, the API server's message and the HTTP status.
 */
import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { AviaryError } from '../errors.js';

/** An object's identity, for reads and deletes. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** "Kind namespace/name", for messages. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name}`;
}

/** The identity of `object`. */
export function refOf(object: KubernetesObject): ObjectRef {
  return {
    apiVersion: object.apiVersion ?? '',
    kind: object.kind ?? '',
    name: object.metadata?.name ?? '',
    ...(object.metadata?.namespace !== undefined ? { namespace: object.metadata.namespace } : {}),
  };
}

/** The HTTP status of a failed call, when the API server answered. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

/** The API server's message in a failed call (its Status `message`), else the error's. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = (error as ApiException<unknown>).body;
    try {
      const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      // not a Status document
    }
    return `HTTP ${(error as ApiException<unknown>).code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The error of a failed `action` on `ref`: the API server's message and HTTP status. */
export function kubeFailure(action: string, ref: ObjectRef, error: unknown): AviaryError {
  const status = statusOf(error);
  return new AviaryError(
    'AVIARY_KUBE_API',
    `${action} ${describeRef(ref)}: ${messageOf(error)}${status !== undefined ? ` (HTTP ${status})` : ''}`,
    { cause: error },
  );
}
