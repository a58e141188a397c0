/**
 * `aviary promote|abort|pause|resume APP`: queue an operator command on a rollout. The
 * controller applies it at its next tick, which starts at once, and records who asked
 * (`cli:<user>`) as an event. Needs the control API's token.
 */
import type { Command } from 'commander';
import { addTokenOptions, controlClientFor, type TokenOptions } from './control-client.js';

interface ActionOptions extends TokenOptions {
  readonly reason?: string;
}

/** The operator commands that take only an app. */
export const ROLLOUT_ACTIONS = {
  promote: 'skip the remaining steps and gates: promote the canary now',
  abort: 'roll back now: all traffic to the primary, the canary scaled to zero',
  pause: 'hold the rollout where it is: no checks, no steps, no deadline',
  resume: 'continue a paused rollout',
} as const;

/** One of {@link ROLLOUT_ACTIONS}. */
export type RolloutAction = keyof typeof ROLLOUT_ACTIONS;

/** Sends `action` for `app`. */
export async function runRolloutAction(
  action: RolloutAction,
  app: string,
  options: ActionOptions,
): Promise<void> {
  const body = action === 'abort' && options.reason !== undefined ? { reason: options.reason } : {};
  await controlClientFor(options).post(`/api/v1/rollouts/${encodeURIComponent(app)}/${action}`, body);
  process.stdout.write(`${action} requested for ${app}; see: aviary watch ${app}\n`);
}

/** Registers `aviary promote`, `abort`, `pause` and `resume`. */
export function registerRolloutActionCommands(program: Command): void {
  for (const [action, description] of Object.entries(ROLLOUT_ACTIONS) as [RolloutAction, string][]) {
    const command = program.command(action).description(description).argument('<app>', 'the app');
    if (action === 'abort') command.option('--reason <text>', 'why, recorded in the event history');
    addTokenOptions(command)
      .addHelpText(
        'after',
        `
Examples:
  aviary ${action} catalogdetail${action === 'abort' ? ` --reason "p99 regression seen on the dashboard"` : ''}
  AVIARY_TOKEN=... aviary ${action} catalogdetail --api http://127.0.0.1:8081
  aviary ${action} catalogdetail --token-file /srv/aviary/.aviary/token
The token is read from --token, AVIARY_TOKEN, or --token-file (default .aviary/token).`,
      )
      .action(async (app: string, options: ActionOptions) => {
        await runRolloutAction(action, app, options);
      });
  }
}
