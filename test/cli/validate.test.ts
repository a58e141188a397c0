// `aviary validate`, `--help` and usage errors, through the built binary (help texts of every
// command are also checked in-process, where walking the command tree is cheap).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerGateCommand } from '../../src/cli/gate-command.js';
import { registerGetCommand } from '../../src/cli/get-events-command.js';
import { registerRolloutActionCommands } from '../../src/cli/rollout-action-command.js';
import { registerSetWeightCommand } from '../../src/cli/set-weight-command.js';
import { registerStatusCommand } from '../../src/cli/status-command.js';
import { registerValidateCommand } from '../../src/cli/validate-command.js';
import { registerWatchCommand } from '../../src/cli/watch-command.js';
import { ensureBuilt, hasAnsi, REPO_ROOT, runCli } from './cli-support.js';

const VALID_AVIARY = join(REPO_ROOT, 'test/fixtures/specs/aviary.yaml');
const SEED_CANARY = join(REPO_ROOT, 'test/fixtures/flagger-canary-seed.yaml');

let dir: string;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'aviary-cli-validate-'));
  const valid = await readFile(VALID_AVIARY, 'utf8');
  await writeFile(
    file('bad-aviary.yaml'),
    valid.replace('min: 99', 'min: high').replace('threshold: 5', 'threshold: -1'),
  );
  await writeFile(
    file('multi.yaml'),
    [
      valid,
      '---',
      'listeners:\n  - name: web\n    port: 70000',
      '---',
      'app: catalogdetail\nversions:\n  - {name: backend-v1, tag: v1.0.0, weight: 90}\n  - {name: backend-v2, tag: v2.0.0, weight: 10}',
    ].join('\n'),
  );
  await writeFile(
    file('release-bad.yaml'),
    'canaryConfig:\n  - {name: backend-v1, tag: v1.0.0, weight: -5}\n',
  );
  await writeFile(file('unknown.yaml'), 'hello: world\n');
  await writeFile(file('syntax.yaml'), 'apps:\n  - name: a\n   bad: indent\n');
  await writeFile(
    file('canary-bad.yaml'),
    (await readFile(SEED_CANARY, 'utf8')).replace('maxWeight: 50', 'maxWeight: lots'),
  );
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('aviary validate', () => {
  it('names the path of each bad field and exits 3', async () => {
    const result = await runCli(['validate', file('bad-aviary.yaml')]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(
      `${file('bad-aviary.yaml')}: apps[0].canary.analysis.metrics[0].thresholdRange.min: expected a number, got "high"`,
    );
    expect(result.stdout).toMatch(/: apps\[0\]\.canary\.analysis\.threshold: expected a number >= /);
    expect(hasAnsi(result.stdout + result.stderr)).toBe(false);
  });

  it('accepts a valid aviary.yaml, and a Flagger Canary with its ignored fields as warnings', async () => {
    const result = await runCli(['validate', VALID_AVIARY, SEED_CANARY]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${VALID_AVIARY}: valid (Aviary)`);
    expect(result.stdout).toContain(`${SEED_CANARY}: warning: spec.provider: ignored:`);
    expect(result.stdout).toContain(`${SEED_CANARY}: valid (Canary)`);
  });

  it('reports a bad Flagger Canary under its spec path', async () => {
    const result = await runCli(['validate', file('canary-bad.yaml')]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`${file('canary-bad.yaml')}: spec.analysis.maxWeight: expected a number`);
  });

  it('checks every document of a multi-document file and names the bad one', async () => {
    const result = await runCli(['validate', file('multi.yaml')]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`${file('multi.yaml')}#2: listeners[0].port: expected a number <= 65535`);
    expect(result.stdout).not.toContain('multi.yaml#1:');
    expect(result.stdout).not.toContain('multi.yaml#3:');
  });

  it('validates release files in the Helm values format', async () => {
    const result = await runCli(['validate', file('release-bad.yaml')]);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/release-bad\.yaml: canaryConfig\[0\]\.weight: .*-5/);
  });

  it('rejects a document it cannot recognise, a syntax error and a missing file', async () => {
    const result = await runCli(['validate', file('unknown.yaml'), file('syntax.yaml'), file('absent.yaml')]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`${file('unknown.yaml')}: (root): cannot tell what this document is`);
    expect(result.stdout).toMatch(/syntax\.yaml: \(root\): line 3, column \d+: /);
    expect(result.stdout).toContain(`${file('absent.yaml')}: (root): cannot read file`);
  });

  it('prints one JSON report per file with --json', async () => {
    const result = await runCli(['validate', '--json', VALID_AVIARY, file('multi.yaml'), SEED_CANARY]);
    expect(result.code).toBe(3);
    const reports = JSON.parse(result.stdout);
    expect(reports.map((r: any) => [r.file, r.valid, r.kind])).toEqual([
      [VALID_AVIARY, true, 'Aviary'],
      [file('multi.yaml'), false, 'Mixed'],
      [SEED_CANARY, true, 'Canary'],
    ]);
    expect(reports[1].issues).toEqual([
      { path: 'listeners[0].port', message: expect.stringContaining('65535'), document: 2 },
    ]);
    expect(reports[1].documents.map((d: any) => d.kind)).toEqual(['Aviary', 'Router', 'Release']);
    expect(reports[2].warnings).toContainEqual({
      path: 'spec.provider',
      message: expect.stringContaining('ignored'),
      document: 1,
    });
  });

  it('needs at least one file (usage error, exit 2)', async () => {
    const result = await runCli(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument 'file'");
  });
});

/** Every command and subcommand of `program`, with its full name (`gate open`). */
function allCommands(command: Command, prefix: string[] = []): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const name = [...prefix, sub.name()];
    return [[name.join(' '), sub] as [string, Command], ...allCommands(sub, name)];
  });
}

function fullHelp(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

describe('the command line', () => {
  it('shows examples in --help of every command this module registers', () => {
    const program = new Command('aviary');
    registerStatusCommand(program);
    registerGetCommand(program);
    registerWatchCommand(program);
    registerRolloutActionCommands(program);
    registerSetWeightCommand(program);
    registerGateCommand(program);
    registerValidateCommand(program);
    const commands = allCommands(program);
    expect(commands.map(([name]) => name).sort()).toEqual(
      [
        'abort',
        'gate',
        'gate close',
        'gate open',
        'get',
        'get events',
        'pause',
        'promote',
        'resume',
        'set-weight',
        'status',
        'validate',
        'watch',
      ].sort(),
    );
    for (const [name, command] of commands) {
      const help = fullHelp(command);
      expect(help, name).toContain('Examples:');
      expect(help, name).toContain(`aviary ${name} `);
    }
  });

  it('prints that help from the built binary', async () => {
    const results = await Promise.all([
      runCli(['get', 'events', '--help']),
      runCli(['gate', 'open', '--help']),
    ]);
    for (const result of results) {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Examples:');
      expect(hasAnsi(result.stdout)).toBe(false);
    }
    expect(results[0]?.stdout).toContain('aviary get events catalogdetail --since 5m');
  });

  it('lists the documented exit codes in aviary --help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).toMatch(/4 +the API refused the call/);
  });

  it('exits 2 on an unknown command or a bad option value', async () => {
    const [unknown, badWeight, badGate] = await Promise.all([
      runCli(['frobnicate']),
      runCli(['set-weight', 'catalogdetail', '--canary', '150']),
      runCli(['gate', 'open', 'catalogdetail', 'confirm-lunch']),
    ]);
    expect(unknown?.code).toBe(2);
    expect(unknown?.stderr).toContain("unknown command 'frobnicate'");
    expect(badWeight?.code).toBe(2);
    expect(badWeight?.stderr).toContain('expected a number from 0 to 100, got "150"');
    expect(badGate?.code).toBe(2);
    expect(badGate?.stderr).toContain('expected one of confirm-rollout');
  });

  it('exits 1 with a hint when the control API is not running', async () => {
    // Port 9 (discard) on loopback: nothing listens there on a test machine.
    const result = await runCli(['status', '--api', 'http://127.0.0.1:9']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the control API at http://127.0.0.1:9');
    expect(result.stderr).toContain('aviary up');
  });
});
