/**
 * `aviary artifacts list | gc`: the artifact store of `aviary up` (docs/adr/0023-git-pipelines.md)
 * through the control API. `list` shows each published tag, whether a running release file
 * references it, and whether it was collected; `gc` removes every artifact no release
 * references (never one that is) and prints what went. Collected tags stay bound to their
 * commits: tags are immutable for good.
 */
import type { Command } from 'commander';
import type { CollectionReport } from '../pipelines/artifacts/artifact-store.js';
import { addApiOption, addTokenOptions, type ApiOptions, type TokenOptions } from './control-client.js';
import type { PipelinesOutput } from './pipelines-command.js';
import { PipelinesClient } from './pipelines-client.js';
import { renderArtifacts, renderCollection } from './render-pipelines.js';
import { terminalStyle } from './render-terminal.js';

interface JsonOption {
  readonly json?: boolean;
}

/** Prints every artifact as a table, or (`json`) the API's entries. */
export async function runArtifactsList(
  options: ApiOptions & JsonOption,
  output: Pick<PipelinesOutput, 'out' | 'style'>,
): Promise<void> {
  const artifacts = await new PipelinesClient(options).artifacts();
  if (options.json === true) return output.out(`${JSON.stringify(artifacts, null, 2)}\n`);
  if (artifacts.length === 0) return output.out('no artifacts: nothing has been published yet\n');
  output.out(`${renderArtifacts(output.style, artifacts).join('\n')}\n`);
}

/** Collects the unreferenced artifacts and prints what was removed, or (`json`) the report. */
export async function runArtifactsGc(
  options: TokenOptions & JsonOption,
  output: Pick<PipelinesOutput, 'out'>,
): Promise<CollectionReport> {
  const report = await new PipelinesClient(options).collectGarbage();
  output.out(
    options.json === true
      ? `${JSON.stringify(report, null, 2)}\n`
      : `${renderCollection(report).join('\n')}\n`,
  );
  return report;
}

/** Registers `aviary artifacts list` and `aviary artifacts gc`. */
export function registerArtifactsCommand(program: Command): void {
  const artifacts = program
    .command('artifacts')
    .description('the artifacts the build pipeline published: list them, collect those no release uses');
  const stdout = { out: (text: string) => process.stdout.write(text), style: terminalStyle(process.stdout) };

  const list = artifacts
    .command('list')
    .description('show every published tag: app, tag, commit, digest, referenced, published')
    .option('--json', "print the API's entries as JSON");
  addApiOption(list)
    .addHelpText(
      'after',
      `
Examples:
  aviary artifacts list
  aviary artifacts list --json | jq '.[] | select(.referenced | not) | .tag'`,
    )
    .action(async (options: ApiOptions & JsonOption) => {
      await runArtifactsList(options, stdout);
    });

  const gc = artifacts
    .command('gc')
    .description('remove every artifact that no running release file references, and print what went')
    .option('--json', 'print the collection report as JSON');
  addTokenOptions(gc)
    .addHelpText(
      'after',
      `
Examples:
  aviary artifacts gc
A referenced artifact is never removed. A removed tag cannot be published again from another commit.
The token is read from --token, AVIARY_TOKEN, or --token-file (default .aviary/token).`,
    )
    .action(async (options: TokenOptions & JsonOption) => {
      await runArtifactsGc(options, stdout);
    });
}
