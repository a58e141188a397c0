/**
 * The name grammar shared by every named object of the router's configuration: listeners,
 * services, versions and routes (and the versions that targets and mirrors refer to).
 */
import { z } from 'zod';

/** Name of a listener, service, version or route: letters, digits, ".", "_" or "-", at most 63. */
export const proxyNameSchema = z.string().regex(/^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,62})$/, {
  message:
    'expected a name of letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)',
});
