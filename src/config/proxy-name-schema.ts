/**
 * The name grammar shared by every named object of the proxy's configuration: listeners,
 * services, versions and routes (and the versions that targets and mirrors refer to).
 */
import { z } from 'zod';

/** Name of a listener, service, version or route: letters, digits, ".", "_" or "-", at most 63. */
export const proxyNameSchema = z.string().regex(/^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,62})$/, {
  message:
    'expected a name of letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)',
});

/**
 * Adds `name` to `seen`, reporting at `path` a name an earlier listener, service, version
 * or route of the same list already has: `duplicate <what> name "<name>"`.
 */
export function noteUniqueName(
  seen: Set<string>,
  name: string,
  path: (string | number)[],
  what: string,
  ctx: z.RefinementCtx,
): void {
  if (seen.has(name)) ctx.addIssue({ code: 'custom', path, message: `duplicate ${what} name "${name}"` });
  seen.add(name);
}
