/**
 * The `aviary` command line. Each command lives in its own file and registers itself here;
 * errors map to the documented exit codes.
 */
import { Command, CommanderError } from 'commander';
import { AviaryError } from '../errors.js';
import { ConfigError } from '../config/config-error.js';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.js';
import { registerProxyCommand } from './proxy-command.js';
import { registerUpCommand } from './up-command.js';
import { registerStatusCommand } from './status-command.js';
import { registerGetCommand } from './get-events-command.js';
import { registerWatchCommand } from './watch-command.js';
import { registerRolloutActionCommands } from './rollout-action-command.js';
import { registerSetWeightCommand } from './set-weight-command.js';
import { registerGateCommand } from './gate-command.js';
import { registerValidateCommand } from './validate-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerApplyCommand } from './apply-command.js';
import { registerOperatorCommand } from './operator-command.js';
import { registerWaitCommand } from './wait-command.js';
import { registerPipelinesHookCommand } from './pipelines-hook-command.js';
import { registerPipelinesCommands } from './pipelines-command.js';
import { registerArtifactsCommand } from './artifacts-command.js';

const program = new Command('aviary')
  .description('Progressive delivery with a built-in HTTP proxy: canary, A/B and blue/green releases.')
  .version('0.1.0')
  .exitOverride()
  .addHelpText('after', EXIT_CODES_HELP);

registerProxyCommand(program);
registerUpCommand(program);
registerStatusCommand(program);
registerGetCommand(program);
registerWatchCommand(program);
registerWaitCommand(program);
registerRolloutActionCommands(program);
registerSetWeightCommand(program);
registerGateCommand(program);
registerValidateCommand(program);
registerDemoCommand(program);
registerApplyCommand(program);
registerOperatorCommand(program);
registerPipelinesCommands(program);
registerPipelinesHookCommand(program);
registerArtifactsCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    if (err instanceof ConfigError || err instanceof AviaryError) console.error(`aviary: ${err.message}`);
    else console.error(err);
    process.exitCode = exitCodeFor(err);
  }
}
