/**
 * The `endpoints` target: versions that run elsewhere (VMs, another scheduler) at fixed
 * `host:port` addresses. It starts and stops nothing: "running a version" is probing its
 * addresses, and only ready ones are endpoints. A canary of a version deployed by other
 * means still gets an analysed, reversible traffic shift; promotion makes the primary role
 * serve the canary's addresses. Its replica count is its address list, so it cannot scale
 * to any other number than that or zero.
 */
import { createHash } from 'node:crypto';
import type { EndpointsSpec } from '../../config/app-endpoints.js';
import { TargetError } from '../target-error.js';
import {
  assertAppName,
  readyPercentOf,
  versionNotFound,
  type DesiredVersion,
  type LogLine,
  type RecoveryReport,
  type Target,
  type VersionRole,
  type VersionStatus,
} from '../target.js';
import { EndpointsVersion } from './endpoints-version.js';

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Checks a spec handed in by code rather than by the schema; names the bad address. */
function assertEndpointsSpec(app: string, role: VersionRole, spec: EndpointsSpec): void {
  assertAppName(app);
  if (spec.addresses.length === 0) {
    throw new TargetError(
      'AVIARY_TARGET_INVALID_SPEC',
      `app ${app}, role ${role}: addresses: expected at least one host:port`,
    );
  }
  for (const address of spec.addresses) {
    const port = Number(ADDRESS.exec(address)?.[2] ?? Number.NaN);
    if (!(port >= 1 && port <= 65_535)) {
      throw new TargetError(
        'AVIARY_TARGET_INVALID_SPEC',
        `app ${app}, role ${role}: addresses: expected host:port, got ${JSON.stringify(address)}`,
      );
    }
  }
}

/** {@link Target} over fixed addresses, probed for readiness. */
export class EndpointsTarget implements Target<EndpointsSpec> {
  readonly kind = 'endpoints';
  readonly #versions = new Map<string, EndpointsVersion>();
  #closed = false;

  /** The revision hashes the address set (order does not matter); replicas are its size. */
  identify(spec: EndpointsSpec): DesiredVersion {
    const canonical = JSON.stringify([...spec.addresses].sort());
    const revision = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
    return { revision, replicas: spec.addresses.length };
  }

  /** The size of an endpoints version is its address list: the spec is returned as it is. */
  withReplicas(spec: EndpointsSpec): EndpointsSpec {
    return spec;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- errors must reject, not throw
  async ensureVersion(
    app: string,
    role: VersionRole,
    spec: EndpointsSpec,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    this.#assertOpen();
    signal?.throwIfAborted();
    if (role === 'baseline') {
      // A fresh baseline is a new copy of the primary; these addresses are run by someone else.
      throw new TargetError(
        'AVIARY_TARGET_INVALID_SPEC',
        `app ${app}, role baseline: an endpoints version cannot start a copy of the primary for analysis.baseline: fresh; use baseline: primary`,
      );
    }
    assertEndpointsSpec(app, role, spec);
    const { revision } = this.identify(spec);
    const version = this.#versions.get(key(app, role));
    if (!version) this.#versions.set(key(app, role), new EndpointsVersion(spec, revision));
    else if (version.revision === revision) {
      version.updateProbes(spec);
      version.setActive(true);
    } else {
      version.setActive(true);
      version.replace(spec, revision);
    }
    return this.#statusOf(app, role);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- errors must reject, not throw
  async scale(
    app: string,
    role: VersionRole,
    replicas: number,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    this.#assertOpen();
    signal?.throwIfAborted();
    const version = this.#versions.get(key(app, role));
    if (!version) throw versionNotFound(app, role, 'scale');
    if (replicas !== 0 && replicas !== version.spec.addresses.length) {
      throw new TargetError(
        'AVIARY_TARGET_INVALID_SPEC',
        `app ${app}, role ${role}: replicas: an endpoints version has as many replicas as addresses (${version.spec.addresses.length}) or 0, got ${replicas}`,
      );
    }
    version.setActive(replicas > 0);
    return this.#statusOf(app, role);
  }

  async promote(app: string, signal?: AbortSignal): Promise<VersionStatus> {
    this.#assertOpen();
    const canary = this.#versions.get(key(app, 'canary'));
    if (!canary || !this.#versions.has(key(app, 'primary'))) throw versionNotFound(app, 'canary', 'promote');
    return this.ensureVersion(app, 'primary', canary.spec, signal);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the interface is async for remote targets
  async status(app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    return this.#versions.has(key(app, role)) ? this.#statusOf(app, role) : undefined;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the interface is async for remote targets
  async stop(app: string, role: VersionRole, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#versions.get(key(app, role))?.stop();
    this.#versions.delete(key(app, role));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the interface is async for remote targets
  async logs(app: string, role: VersionRole, options: { tail?: number } = {}): Promise<readonly LogLine[]> {
    return this.#versions.get(key(app, role))?.logs(options.tail) ?? [];
  }

  /** Nothing of a previous run needs adopting: the addresses are probed again from scratch. */
  // eslint-disable-next-line @typescript-eslint/require-await -- the interface is async for remote targets
  async recover(signal?: AbortSignal): Promise<RecoveryReport> {
    signal?.throwIfAborted();
    return { adopted: [], discarded: [] };
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the interface is async for remote targets
  async close(): Promise<void> {
    this.#closed = true;
    for (const version of this.#versions.values()) version.stop();
    this.#versions.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TargetError('AVIARY_TARGET_CLOSED', 'the endpoints target is closed');
  }

  #statusOf(app: string, role: VersionRole): VersionStatus {
    const version = this.#versions.get(key(app, role))!;
    const desiredReplicas = version.active ? version.spec.addresses.length : 0;
    const readyReplicas = version.active ? version.readyReplicas() : 0;
    return {
      app,
      role,
      revision: version.revision,
      desiredReplicas,
      readyReplicas,
      readyPercent: readyPercentOf(readyReplicas, desiredReplicas),
      endpoints: version.active ? version.endpoints() : [],
      restarts: 0,
      lastError: version.lastError,
      replicas: version.active ? version.replicas() : [],
    };
  }
}

function key(app: string, role: VersionRole): string {
  return `${app}/${role}`;
}
