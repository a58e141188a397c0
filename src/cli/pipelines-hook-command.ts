/**
 * `aviary pipelines hook install <bare-repo>` and `aviary pipelines hook deliver`: a git
 * `post-receive` hook that sends each push of a bare repository to Aviary's webhook receiver
 * as a signed GitHub push (post-receive-hook.ts installs it, push-delivery.ts delivers).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { readSecretFile } from '../pipelines/pipeline-sources.js';
import { DEFAULT_HOOK_URL, installPostReceiveHook } from './post-receive-hook.js';
import { deliverRefUpdates, gitPeeler, parseRefUpdates } from './push-delivery.js';

interface InstallFlags {
  readonly url: string;
  readonly repository?: string;
  readonly secretFile: string;
  readonly force?: boolean;
}

interface DeliverFlags {
  readonly url: string;
  readonly repository: string;
  readonly secretFile: string;
  readonly gitDir?: string;
}

/** The `pipelines` command, created once whichever file registers first (pipelines-command.ts adds the run subcommands). */
export function pipelinesCommand(program: Command): Command {
  return (
    program.commands.find((command) => command.name() === 'pipelines') ??
    program
      .command('pipelines')
      .description('Git pipelines: webhooks, builds and releases from a deploy repository')
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * What the hook runs. Every failure is a warning and the exit code stays 0: the refs are
 * already updated, and a receiver that is down must not make the push look failed.
 */
async function deliver(flags: DeliverFlags): Promise<void> {
  const warn = (line: string): void => console.error(line);
  try {
    const { updates, skipped } = parseRefUpdates(await readStdin());
    for (const line of skipped)
      warn(`aviary: warning: skipped a line that is not "<old> <new> <ref>": ${line}`);
    const secret = await readSecretFile(flags.secretFile).catch((err: unknown) => {
      throw new Error(`cannot read --secret-file ${flags.secretFile}: ${(err as Error).message}`);
    });
    if (secret === '') throw new Error(`--secret-file ${flags.secretFile} is empty`);
    // Git runs the hook in the bare repository with GIT_DIR set (githooks(5)).
    const gitDir = resolve(flags.gitDir ?? process.env.GIT_DIR ?? '.');
    await deliverRefUpdates(updates, {
      url: flags.url,
      repository: flags.repository,
      secret,
      cloneUrl: pathToFileURL(gitDir).href,
      peel: gitPeeler(gitDir),
      log: (line) => console.log(line),
      warn,
    });
  } catch (err) {
    warn(`aviary: warning: nothing delivered: ${(err as Error).message}; the push itself succeeded`);
  }
}

/** Registers `aviary pipelines hook install` and `aviary pipelines hook deliver`. */
export function registerPipelinesHookCommand(program: Command): void {
  const hook = pipelinesCommand(program)
    .command('hook')
    .description('A git post-receive hook that posts pushes to the webhook receiver');

  hook
    .command('install <bare-repo>')
    .description(
      'Install a post-receive hook in a bare repository that POSTs each pushed ref, signed, as a GitHub push',
    )
    .option('--url <url>', "the webhook receiver's GitHub endpoint", DEFAULT_HOOK_URL)
    .option(
      '--repository <owner/name>',
      "repository.full_name of the payloads, as the receiver's source names it (default: <parent dir>/<repo name without .git>)",
    )
    .requiredOption(
      '--secret-file <path>',
      'file holding the webhook secret, read at each push (the secret is never taken on the command line)',
    )
    .option('--force', 'replace an existing post-receive hook')
    .addHelpText(
      'after',
      `
Examples:
  aviary pipelines hook install /srv/git/acme/catalogdetail.git --secret-file /etc/aviary/hook-secret
  aviary pipelines hook install ./deploy.git --repository acme/deploy --secret-file ./hook-secret --url http://127.0.0.1:8082/hooks/github
The hook runs this Aviary's bin/aviary.js with this node; reinstall (--force) after moving either.`,
    )
    .action(async (repo: string, flags: InstallFlags) => {
      const installed = await installPostReceiveHook({
        repo,
        url: flags.url,
        secretFile: flags.secretFile,
        ...(flags.repository === undefined ? {} : { repository: flags.repository }),
        ...(flags.force === true ? { force: true } : {}),
      });
      console.log(
        `${installed.replaced ? 'replaced' : 'installed'} ${installed.path}: pushes go to ${installed.url} as repository ${installed.repository}, signed with the secret in ${installed.secretFile}`,
      );
    });

  hook
    .command('deliver')
    .description(
      'Run by the installed hook: read "<old> <new> <ref>" lines on stdin and POST each; always exits 0',
    )
    .requiredOption('--url <url>', "the webhook receiver's GitHub endpoint")
    .requiredOption('--repository <owner/name>', 'repository.full_name of the payloads')
    .requiredOption('--secret-file <path>', 'file holding the webhook secret')
    .option('--git-dir <path>', 'the repository, to peel tags (default: $GIT_DIR, as git sets it for hooks)')
    .addHelpText(
      'after',
      `
Examples:
  echo "$OLD $NEW refs/tags/v2.0.0" | aviary pipelines hook deliver --url http://127.0.0.1:8082/hooks/github --repository acme/catalogdetail --secret-file ./hook-secret --git-dir ./catalogdetail.git`,
    )
    .action((flags: DeliverFlags) => deliver(flags));
}
