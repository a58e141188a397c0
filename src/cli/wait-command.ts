/**
 * `aviary wait APP [--timeout 10m]`: blocks until the app's rollout ends and exits with its
 * outcome, which is what a CI job runs after a deploy: 0 when the new revision was promoted
 * (or nothing was to roll out), 5 when it was rolled back, 1 when `--timeout` passed first.
 * Prints a line whenever the phase or the canary weight changes, and the events meanwhile.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { AviaryError } from '../errors.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import { addApiOption, controlClientFor, type ApiOptions, type ControlClient } from './control-client.js';
import { parseSince } from './get-events-command.js';
import { statusFingerprint, watchEventLine, watchStatusLine, type RolloutSummary } from './render-rollout.js';

interface WaitOptions extends ApiOptions {
  /** Longest wait in ms, parsed from `--timeout`. */
  readonly timeout?: number;
}

/** How often the rollout is read; the controller ticks at most once a second by default. */
const POLL_MS = 500;

/** How a rollout ended, or undefined while it is still under way. */
export type RolloutOutcome = 'promoted' | 'rolled-back' | undefined;

/**
 * The outcome of `view`. A rollout has ended when its phase is settled and its last applied
 * revision is the desired one: a revision saved but not yet picked up counts as under way.
 */
export function outcomeOf(view: RolloutSummary): RolloutOutcome {
  if ('kind' in view && view.kind === 'release') return view.phase === 'Released' ? 'promoted' : undefined;
  const status = view.status;
  if (!status || status.lastAppliedSpec !== view.revision) return undefined;
  if (status.phase === 'Failed') return 'rolled-back';
  if (status.phase === 'Succeeded' || status.phase === 'Initialized') return 'promoted';
  return undefined;
}

/** Output of a wait. */
export interface WaitOutput {
  readonly write: (text: string) => void;
  readonly now: () => number;
}

/**
 * Polls `app` until its rollout ends and returns the last view. Rejects with
 * `AVIARY_ROLLED_BACK` when it was rolled back and `AVIARY_WAIT_TIMEOUT` after `timeoutMs`.
 */
export async function waitForRollout(
  client: ControlClient,
  app: string,
  timeoutMs: number | undefined,
  output: WaitOutput,
  signal?: AbortSignal,
): Promise<RolloutSummary> {
  const path = `/api/v1/rollouts/${encodeURIComponent(app)}`;
  const started = output.now();
  let since = started;
  let shown = '';
  for (;;) {
    const view = await client.get<RolloutSummary>(path);
    const events = await client.get<RolloutEventRecord[]>(`${path}/events?since=${since}`);
    for (const event of events) {
      output.write(watchEventLine(event) + '\n');
      since = Math.max(since, event.at);
    }
    const fingerprint = statusFingerprint(view);
    if (fingerprint !== shown) {
      shown = fingerprint;
      output.write(watchStatusLine(view, output.now()) + '\n');
    }
    const outcome = outcomeOf(view);
    if (outcome === 'promoted') return view;
    if (outcome === 'rolled-back') {
      const last = events.at(-1);
      throw new AviaryError(
        'AVIARY_ROLLED_BACK',
        `rollout ${app} was rolled back (revision ${view.revision})${last ? `: ${last.message}` : ''}; see: aviary get events ${app}`,
      );
    }
    if (timeoutMs !== undefined && output.now() - started >= timeoutMs) {
      throw new AviaryError(
        'AVIARY_WAIT_TIMEOUT',
        `rollout ${app} still ${view.status?.phase ?? 'pending'} after --timeout ${timeoutMs / 1000}s; it goes on (see: aviary watch ${app})`,
      );
    }
    await sleep(POLL_MS, undefined, signal ? { signal } : undefined);
  }
}

/** Runs `aviary wait`. */
export async function runWait(app: string, options: WaitOptions): Promise<void> {
  const output = { write: (text: string) => process.stdout.write(text), now: Date.now };
  const view = await waitForRollout(controlClientFor(options), app, options.timeout, output);
  output.write(`${app}: promoted (revision ${view.revision})\n`);
}

/** Registers `aviary wait`. */
export function registerWaitCommand(program: Command): void {
  const command = program
    .command('wait')
    .description('wait until the rollout of an app ends: exit 0 when promoted, 5 when rolled back')
    .argument('<app>', 'the app')
    .option(
      '--timeout <duration>',
      'give up after this long (exit 1), e.g. 30s, 10m; default never',
      parseSince,
    );
  addApiOption(command)
    .addHelpText(
      'after',
      `
Examples:
  aviary wait catalogdetail                  # in CI, after the deploy that saved aviary.yaml
  aviary wait catalogdetail --timeout 15m --api http://127.0.0.1:8081`,
    )
    .action(async (app: string, options: WaitOptions) => {
      await runWait(app, options);
    });
}
