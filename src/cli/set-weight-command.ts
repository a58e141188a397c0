/**
 * `aviary set-weight APP --canary N`: route N % of the app's traffic to the canary by hand;
 * the analysis continues from that weight. Needs the control API's token.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { addTokenOptions, controlClientFor, type TokenOptions } from './control-client.js';

interface SetWeightOptions extends TokenOptions {
  readonly canary: number;
}

/** Parses `--canary`: a number from 0 to 100. */
export function parseCanaryWeight(value: string): number {
  const weight = Number(value);
  if (value.trim() === '' || !Number.isFinite(weight) || weight < 0 || weight > 100)
    throw new InvalidArgumentError(`expected a number from 0 to 100, got "${value}"`);
  return weight;
}

/** Sends the weight for `app`. */
export async function runSetWeight(app: string, options: SetWeightOptions): Promise<void> {
  await controlClientFor(options).post(`/api/v1/rollouts/${encodeURIComponent(app)}/weights`, {
    canaryWeight: options.canary,
  });
  process.stdout.write(
    `canary weight ${options.canary}% requested for ${app} (primary ${100 - options.canary}%); see: aviary watch ${app}\n`,
  );
}

/** Registers `aviary set-weight`. */
export function registerSetWeightCommand(program: Command): void {
  const command = program
    .command('set-weight')
    .description('set the canary weight by hand; the analysis continues from there')
    .argument('<app>', 'the app')
    .requiredOption('--canary <percent>', 'canary share of traffic, 0-100', parseCanaryWeight);
  addTokenOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  aviary set-weight catalogdetail --canary 30
  aviary set-weight catalogdetail --canary 0     # everything to the primary, canary keeps running
The token is read from --token, AVIARY_TOKEN, or --token-file (default .aviary/token).`,
    )
    .action(async (app: string, options: SetWeightOptions) => {
      await runSetWeight(app, options);
    });
}
