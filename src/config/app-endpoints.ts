/**
 * The `endpoints` workload of an app: versions that run elsewhere (VMs, another scheduler,
 * a platform Aviary does not start) and are reached at fixed `host:port` addresses. Aviary
 * does not start or stop them; it probes them, routes to the ready ones and judges them,
 * so a canary of a version deployed by other means still gets an analysed, reversible
 * traffic shift.
 */
import { z } from 'zod';
import { probeSchema, type ProbeSpec } from './app-process.js';

/** One version of an app served at fixed addresses (workload kind `endpoints`). */
export interface EndpointsSpec {
  readonly kind: 'endpoints';
  /** `host:port` of each replica; the version's replica count is their number. */
  readonly addresses: readonly string[];
  /** Gates traffic: only addresses whose probe passes are routed to. Without one, every address is ready. */
  readonly readinessProbe?: ProbeSpec;
}

const address = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
  message: 'expected host:port, e.g. 10.0.0.7:8080 or [::1]:8080',
});

/** Schema of an `endpoints` block. Security: addresses are dialled as given; no name is resolved through a shell. */
export const endpointsSchema = z
  .strictObject({
    addresses: z.array(address).min(1).max(100),
    readinessProbe: probeSchema.optional(),
  })
  .superRefine((block, ctx) => {
    block.addresses.forEach((value, i) => {
      const port = Number(value.slice(value.lastIndexOf(':') + 1));
      if (port < 1 || port > 65_535)
        ctx.addIssue({ code: 'custom', path: ['addresses', i], message: 'expected a port from 1 to 65535' });
      if (block.addresses.indexOf(value) !== i)
        ctx.addIssue({ code: 'custom', path: ['addresses', i], message: `duplicate address ${value}` });
    });
  })
  .transform(({ addresses, readinessProbe }): EndpointsSpec => ({
    kind: 'endpoints',
    addresses,
    ...(readinessProbe === undefined ? {} : { readinessProbe }),
  }));
