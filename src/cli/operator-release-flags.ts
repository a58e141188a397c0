/**
 * The `--release-*` flags of `aviary operator`: how the operator renders release files as
 * Deployments, Services and one HTTPRoute per app (docs/adr/0024-releases-on-kubernetes.md)
 * when a values file does not say (`image.repository`, `httpRoute.parentRefs`, ...).
 */
import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { parseDuration } from '../config/duration.js';
import type { ClusterReleaseOptions } from '../operator/cluster-releases.js';
import type { ParentReference } from '../router/gateway-api/http-route.js';

/** The flags as commander hands them over. */
export interface ReleaseFlags {
  releaseImage?: string;
  releaseGateway: string[];
  releasePort?: string;
  releaseReplicas?: string;
  releaseDrain?: string;
  releaseReadyTimeout?: string;
  releaseAllowedTag: string[];
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function refused(flag: string, message: string): ConfigError {
  return new ConfigError(flag, [{ path: flag, message }]);
}

/** `[namespace/]name[/section]` → a Gateway parentRef. */
export function parseGateway(text: string): ParentReference {
  const parts = text.split('/');
  const [namespace, name, sectionName] =
    parts.length === 1
      ? [undefined, parts[0], undefined]
      : parts.length === 2
        ? [parts[0], parts[1], undefined]
        : parts;
  if (
    parts.length > 3 ||
    [namespace, name, sectionName].some((part) => part !== undefined && !LABEL.test(part))
  )
    throw refused(
      '--release-gateway',
      `expected [namespace/]name[/section] of lowercase DNS labels, got "${text}"`,
    );
  return {
    name: name!,
    ...(namespace !== undefined && { namespace }),
    ...(sectionName !== undefined && { sectionName }),
  };
}

function integer(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max))
    throw refused(flag, `expected a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

function duration(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw refused(flag, `expected a duration such as 10s or 1m, got "${text}"`);
  return ms;
}

/** The release options the flags give. @throws ConfigError naming the flag and what it expects */
export function releaseOptionsOf(flags: ReleaseFlags): ClusterReleaseOptions {
  const port = integer('--release-port', flags.releasePort, 1, 65_535);
  const replicas = integer('--release-replicas', flags.releaseReplicas, 0, 1000);
  const drainMs = duration('--release-drain', flags.releaseDrain);
  const readyTimeoutMs = duration('--release-ready-timeout', flags.releaseReadyTimeout);
  const parentRefs = flags.releaseGateway.map(parseGateway);
  return {
    defaults: {
      ...(flags.releaseImage !== undefined && { imageRepository: flags.releaseImage }),
      ...(port !== undefined && { port }),
      ...(replicas !== undefined && { replicas }),
      ...(parentRefs.length > 0 && { parentRefs }),
    },
    ...(flags.releaseAllowedTag.length > 0 && { allowedTags: flags.releaseAllowedTag }),
    ...(drainMs !== undefined && { drainMs }),
    ...(readyTimeoutMs !== undefined && { readyTimeoutMs }),
  };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds the flags to `command`. */
export function addReleaseFlags(command: Command): Command {
  return command
    .option(
      '--release-image <repository>',
      'image repository of release entries, ${app} replaced (e.g. registry/${app})',
    )
    .option(
      '--release-gateway <ref>',
      'Gateway the release HTTPRoutes attach to: [namespace/]name[/section]; repeatable',
      collect,
      [],
    )
    .option('--release-port <port>', 'port release entries listen on and their Services serve (default 8080)')
    .option('--release-replicas <n>', 'replicas of each release entry (default 1)')
    .option(
      '--release-drain <duration>',
      'how long a removed entry stays routed at weight 0 before deletion (default 10s)',
    )
    .option(
      '--release-ready-timeout <duration>',
      'how long new entries may take to roll out before the edit is undone (default 60s)',
    )
    .option(
      '--release-allowed-tag <tag>',
      'tag accepted besides v1.2.3-style ones (e.g. a short SHA); repeatable',
      collect,
      [],
    );
}
