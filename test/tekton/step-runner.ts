/**
 * Runs one step of a shipped Task on this machine, as Tekton would in its container: the
 * step's env with Tekton's variables substituted ($(params.x) with the Task's defaults,
 * $(results.x.path), $(workspaces.x.path), $(context.taskRun.name)), its workingDir, and its
 * script given to /bin/sh, never a shell line built from the values. Lets tests drive the
 * scripts with real git and real HTTP on loopback.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from './manifests.js';

/** What Tekton would give the step. */
export interface StepInput {
  readonly params: Readonly<Record<string, string>>;
  readonly workspaces?: Readonly<Record<string, string>>;
  readonly taskRunName?: string;
  /** Directories put before this process's PATH: the programs the step's image would have. */
  readonly path?: readonly string[];
}

/** How the step ended. */
export interface StepOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The results the step wrote, by name. */
  readonly results: Readonly<Record<string, string>>;
}

interface Step {
  name: string;
  script: string;
  workingDir?: string;
  env?: { name: string; value: string }[];
}

/** Runs the Task's only step with `input`; a missing param or workspace throws. */
export async function runStep(task: Manifest, input: StepInput): Promise<StepOutcome> {
  const [step, ...more] = task.spec.steps as Step[];
  if (step === undefined || more.length > 0) throw new Error(`Task ${task.metadata.name}: expected one step`);
  const resultsDir = await mkdtemp(join(tmpdir(), 'aviary-tekton-results-'));
  try {
    const declared = (task.spec.params ?? []) as { name: string; default?: string }[];
    const params = Object.fromEntries(declared.map((p) => [p.name, input.params[p.name] ?? p.default]));
    const substitute = (text: string) =>
      text.replace(
        /\$\((params|results|workspaces|context)\.([A-Za-z0-9_-]+)(?:\.([a-z]+))?\)/g,
        (whole, kind: string, name: string) => {
          const value =
            kind === 'params'
              ? params[name]
              : kind === 'results'
                ? join(resultsDir, name)
                : kind === 'workspaces'
                  ? input.workspaces?.[name]
                  : name === 'taskRun'
                    ? (input.taskRunName ?? 'test-run')
                    : undefined;
          if (value === undefined) throw new Error(`Task ${task.metadata.name}: nothing for ${whole}`);
          return value;
        },
      );
    const env = Object.fromEntries((step.env ?? []).map((e) => [e.name, substitute(e.value)]));
    const cwd = step.workingDir === undefined ? resultsDir : substitute(step.workingDir);
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        const child = execFile(
          '/bin/sh',
          ['-c', step.script],
          {
            cwd,
            env: { PATH: [...(input.path ?? []), process.env.PATH].join(':'), HOME: resultsDir, ...env },
            timeout: 60_000,
          },
          (error, out, err) =>
            resolve({
              code: error ? ((error.code as number | undefined) ?? 1) : 0,
              stdout: out,
              stderr: err,
            }),
        );
        child.stdin?.end();
      },
    );
    const names = ((task.spec.results ?? []) as { name: string }[]).map((r) => r.name);
    const results: Record<string, string> = {};
    for (const name of names) {
      const text = await readFile(join(resultsDir, name), 'utf8').catch(() => undefined);
      if (text !== undefined) results[name] = text;
    }
    return { code, stdout, stderr, results };
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
}
