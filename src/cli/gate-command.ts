/**
 * `aviary gate open|close APP GATE [--reason TEXT]`: open or close one of the built-in manual
 * gates (Flagger load tester semantics: a gate nobody touched is closed). A gate holds only
 * where the app's spec has a confirm-* or rollback webhook with `url: aviary:gate`. Needs
 * the control API's token.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { GATE_TYPES, isGateType, type GateType } from '../config/app-webhook.js';
import { addTokenOptions, controlClientFor, type TokenOptions } from './control-client.js';

interface GateOptions extends TokenOptions {
  readonly reason?: string;
}

/** Parses the GATE argument; an unknown gate lists the known ones. */
export function parseGate(value: string): GateType {
  if (!isGateType(value))
    throw new InvalidArgumentError(`expected one of ${GATE_TYPES.join(', ')}, got "${value}"`);
  return value;
}

/** Opens or closes `gate` of `app`. */
export async function runGate(
  open: boolean,
  app: string,
  gate: GateType,
  options: GateOptions,
): Promise<void> {
  const action = open ? 'open' : 'close';
  await controlClientFor(options).post(
    `/api/v1/rollouts/${encodeURIComponent(app)}/gates/${gate}/${action}`,
    options.reason !== undefined ? { reason: options.reason } : {},
  );
  process.stdout.write(`gate ${gate} of ${app} is ${open ? 'open' : 'closed'}\n`);
}

/** Registers `aviary gate open` and `aviary gate close`. */
export function registerGateCommand(program: Command): void {
  const gate = program
    .command('gate')
    .description(`open or close a manual gate (${GATE_TYPES.join(', ')})`)
    .addHelpText(
      'after',
      `
Examples:
  aviary gate open catalogdetail confirm-promotion --reason "checked the dashboard"
  aviary gate close catalogdetail confirm-rollout`,
    );
  for (const open of [true, false]) {
    const action = open ? 'open' : 'close';
    const command = gate
      .command(action)
      .description(`${action} a gate of an app`)
      .argument('<app>', 'the app')
      .argument('<gate>', GATE_TYPES.join(' | '), parseGate)
      .option('--reason <text>', 'why, recorded with the change');
    addTokenOptions(command)
      .addHelpText(
        'after',
        `
Examples:
  aviary gate ${action} catalogdetail confirm-promotion --reason "QA signed off"
  aviary gate ${action} catalogdetail rollback
Gates: ${GATE_TYPES.join(', ')}. The rollback gate is one-shot: it closes after the rollback.
The token is read from --token, AVIARY_TOKEN, or --token-file (default .aviary/token).`,
      )
      .action(async (app: string, gateName: GateType, options: GateOptions) => {
        await runGate(open, app, gateName, options);
      });
  }
}
