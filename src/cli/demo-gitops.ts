/**
 * `aviary demo --gitops` (`npm run demo:gitops`): the seeds' git story on local bare
 * repositories (gitops-story.ts), narrated, then left running so the user can push to the
 * repositories it made and watch the runs on the dashboard, until Ctrl-C.
 */
import { join } from 'node:path';
import { resolveToken } from './admin-token.js';
import { portOf } from './demo-ports.js';
import { prepareGitops, runGitopsStory, type GitopsOutcome } from './gitops-story.js';
import { closeRuntime, listenForStop, stopWhenOrphaned, whenAborted } from './stop-signals.js';
import { cliRouterContext } from './up-command.js';

/** The flags of `aviary demo` the gitops story uses. */
export interface GitopsDemoOptions {
  readonly stateDir: string;
  readonly routerPort: string;
  readonly apiPort: string;
  readonly webhookPort: string;
  readonly exitAfterStory?: boolean;
  readonly inProcessRouter?: boolean;
}

/** True when the story did what the seeds promise: a 50/50 split, then v1 drained and stopped. */
export function gitopsSucceeded(outcome: GitopsOutcome | undefined): boolean {
  if (outcome === undefined) return false;
  const fair = (share: number | undefined) => share !== undefined && share > 0.3 && share < 0.7;
  return (
    fair(outcome.split.v1) &&
    fair(outcome.split.v2) &&
    !outcome.v1AliveAfterRemoval &&
    outcome.afterRemoval.v2 === 1
  );
}

/** Runs the gitops story; resolves its outcome, or undefined when stopped before it ended. */
export async function runGitopsDemo(options: GitopsDemoOptions): Promise<GitopsOutcome | undefined> {
  const stop = listenForStop(['SIGINT', 'SIGTERM', 'SIGHUP']);
  stopWhenOrphaned(stop);
  try {
    const workspace = await prepareGitops({
      stateDir: options.stateDir,
      routerPort: await portOf(options.routerPort),
      apiPort: await portOf(options.apiPort),
      webhookPort: await portOf(options.webhookPort),
    });
    if (stop.signal.aborted) return undefined;
    const { token } = await resolveToken(join(workspace.config.stateDir, 'token'));
    const { startRuntime } = await import('../runtime.js');
    const runtime = await startRuntime(workspace.config, {
      token,
      drainMs: 500,
      routerContext: cliRouterContext(workspace.config.router, options.inProcessRouter),
    });
    let outcome: GitopsOutcome | undefined;
    try {
      console.log(`aviary: router on ${runtime.routerUrl}, dashboard on ${runtime.controlUrl}/`);
      console.log(`aviary: git webhooks on ${runtime.pipelines.service?.webhookUrl ?? '(off)'}/hooks/github`);
      outcome = await runGitopsStory(runtime, workspace, (line) => console.log(`  ${line}`));
      console.log(`\nThe story ${gitopsSucceeded(outcome) ? 'held' : 'did NOT hold'}.`);
      if (options.exitAfterStory !== true) {
        console.log('\nThe demo keeps running. Try, as the operator:');
        console.log(
          `  cd ${workspace.deployClone} && $EDITOR release.yaml && git commit -am edit && git push`,
        );
        console.log(`and as the developer (a new tag is built and published):`);
        console.log(`  cd ${workspace.appClone} && git tag -a v3.0.0 -m v3 && git push origin v3.0.0`);
        console.log(`Runs: node bin/aviary.js pipelines list --api ${runtime.controlUrl}`);
        console.log('Press Ctrl-C to stop everything.');
        await whenAborted(stop.signal);
      }
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      // Every process still running, so a test can check that none outlives the command.
      const v2 = await runtime.target.status('catalogdetail-v2', 'primary').catch(() => undefined);
      const pids = [runtime.router.pid, ...(v2?.replicas.map((replica) => replica.pid) ?? [])];
      await closeRuntime(runtime, stop);
      if (options.exitAfterStory === true)
        console.log(
          JSON.stringify({ gitops: outcome ?? null, pids: pids.filter((pid) => typeof pid === 'number') }),
        );
    }
    return outcome;
  } finally {
    stop.dispose();
  }
}
