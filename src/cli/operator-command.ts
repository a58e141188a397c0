/**
 * `aviary operator`: runs Aviary as a Kubernetes operator over the Canary objects of one
 * namespace (docs/adr/0019-kubernetes-operator.md). It talks to the API server of the
 * kubeconfig (or, in a pod, its service account) and reads the data plane's traffic from
 * Prometheus. With leader election (on by default, docs/adr/0032) it acts only while it
 * holds the Lease, and exits 1 at once when it could not renew it in time. SIGINT/SIGTERM
 * stop it and give the Lease up; the cluster's objects stay as they are, and a restarted
 * operator (or the standby) resumes each rollout from its Canary's status.
 */
import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { parseDuration } from '../config/duration.js';
import { TRAFFIC_DATA_PLANES, type TrafficDataPlane } from '../metrics/prometheus-traffic.js';
import { join } from 'node:path';
import { resolveToken } from './admin-token.js';
import type { LeaderElector } from '../operator/leader-elector.js';
import {
  addLeaderFlags,
  leaderElectionOf,
  type LeaderElection,
  type LeaderFlags,
} from './operator-leader-flags.js';
import { addReleaseFlags, releaseOptionsOf, type ReleaseFlags } from './operator-release-flags.js';
import { listenForStop, signalExitCode, whenAborted } from './stop-signals.js';

interface OperatorCommandOptions extends ReleaseFlags, LeaderFlags {
  namespace: string;
  kubeconfig?: string;
  stateDir: string;
  minInterval?: string;
  acceptanceTimeout?: string;
  prometheus?: string;
  dataPlane: string;
  scrapeTargets?: string;
  api: boolean;
  apiHost: string;
  apiPort: string;
  tokenFile?: string;
}

/** `--api-port`: a port number (0 picks a free one). */
function apiPort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new ConfigError('--api-port', [
      { path: '--api-port', message: `expected a port number from 0 to 65535, got "${text}"` },
    ]);
  }
  return port;
}

function duration(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new ConfigError(flag, [
      { path: flag, message: `expected a duration such as 10s or 1m, got "${text}"` },
    ]);
  }
  return ms;
}

/**
 * Waits until this process holds the Lease (null: stopped first), then keeps renewing it. A
 * leader that misses the renew deadline exits 1 at once, writing nothing more, as
 * controller-runtime does: another candidate may hold the Lease by then, and the Deployment
 * starts this one again as a standby.
 */
async function leaderOrStop(
  election: LeaderElection,
  kubeconfig: string | undefined,
  signal: AbortSignal,
): Promise<LeaderElector | null> {
  const { LeaderElector } = await import('../operator/leader-elector.js');
  const { loadKubeConfig } = await import('../kubernetes/kube-api.js');
  const elector = new LeaderElector({
    ...election,
    config: loadKubeConfig(kubeconfig !== undefined ? { kubeconfig } : {}),
    log: (line) => console.log(`aviary operator: ${line}`),
  });
  if (!(await elector.acquire(signal))) return null;
  elector.keepRenewing((reason) => {
    console.error(`aviary operator: leader election lost (${reason}); exiting`);
    process.exit(1);
  });
  return elector;
}

/** Registers `aviary operator`. */
export function registerOperatorCommand(program: Command): void {
  const command = program
    .command('operator')
    .description('run as a Kubernetes operator over the Canary objects (aviary.dev/v1alpha1) of a namespace')
    .option('-n, --namespace <name>', 'namespace whose Canaries are run', 'default')
    .option(
      '--kubeconfig <file>',
      'kubeconfig (default $KUBECONFIG, ~/.kube/config, or the pod service account)',
    )
    .option('--state-dir <dir>', 'local state: manual gates and the judge evidence', '.aviary/operator')
    .option('--min-interval <duration>', "shortest analysis.interval accepted (default Flagger's)")
    .option(
      '--acceptance-timeout <duration>',
      'how long a weight change waits for the gateways to accept the route',
      '10s',
    )
    .option('--prometheus <url>', "the data plane's Prometheus, for the built-in checks and the judge")
    .option('--data-plane <kind>', 'whose request metrics Prometheus has: istio or envoy-gateway', 'istio')
    .option(
      '--scrape-targets <selector>',
      'the up series of the data plane targets (how far Prometheus has scraped)',
    )
    .option(
      '--api-host <host>',
      "control API address (the CLI's --api; reads open, commands need the token)",
      '127.0.0.1',
    )
    .option('--api-port <port>', 'control API port (0 picks a free one)', '8081')
    .option('--no-api', 'serve no control API (commands then only through Canary annotations)')
    .option(
      '--token-file <file>',
      'control API token (default AVIARY_TOKEN, else <state-dir>/token, created if absent)',
    );
  addReleaseFlags(command);
  addLeaderFlags(command);
  command.action(async (options: OperatorCommandOptions) => {
    const releases = releaseOptionsOf(options);
    const election = leaderElectionOf(options, options.namespace);
    const stop = listenForStop();
    const { startOperator } = await import('../operator/operator.js');
    const minAnalysisIntervalMs = duration('--min-interval', options.minInterval);
    const acceptanceTimeoutMs = duration('--acceptance-timeout', options.acceptanceTimeout);
    if (!(TRAFFIC_DATA_PLANES as readonly string[]).includes(options.dataPlane)) {
      throw new ConfigError('--data-plane', [
        {
          path: '--data-plane',
          message: `expected one of ${TRAFFIC_DATA_PLANES.join(', ')}, got "${options.dataPlane}"`,
        },
      ]);
    }
    const port = apiPort(options.apiPort);
    const token = options.api
      ? await resolveToken(options.tokenFile ?? join(options.stateDir, 'token'))
      : undefined;
    const elector = election && (await leaderOrStop(election, options.kubeconfig, stop.signal));
    if (elector === null) {
      stop.dispose();
      process.exitCode = signalExitCode(stop.signal);
      return;
    }
    const operator = await startOperator({
      namespace: options.namespace,
      stateDir: options.stateDir,
      releases,
      ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
      ...(election !== undefined ? { instance: election.identity } : {}),
      ...(elector ? { beforeWrite: () => elector.assertLeading() } : {}),
      ...(minAnalysisIntervalMs !== undefined ? { minAnalysisIntervalMs } : {}),
      ...(acceptanceTimeoutMs !== undefined ? { acceptanceTimeoutMs } : {}),
      ...(token !== undefined ? { controlApi: { host: options.apiHost, port, token: token.token } } : {}),
      ...(options.prometheus !== undefined
        ? {
            prometheus: {
              address: options.prometheus,
              dataPlane: options.dataPlane as TrafficDataPlane,
              ...(options.scrapeTargets !== undefined ? { scrapeTargets: options.scrapeTargets } : {}),
            },
          }
        : {}),
    }).catch(async (error: unknown) => {
      await elector?.release();
      throw error;
    });
    console.log(
      `aviary operator: running the Canaries of namespace ${options.namespace} (${operator.controller.apps().length} now)`,
    );
    if (operator.controlUrl !== undefined && token !== undefined)
      console.log(`aviary operator: control API on ${operator.controlUrl} (token from ${token.source})`);
    await whenAborted(stop.signal);
    await operator.close();
    await elector?.release();
    stop.dispose();
    process.exitCode = signalExitCode(stop.signal);
  });
}
