/**
 * deploy/tekton under @ibm/tekton-lint 1.1 with test/tekton/tektonlintrc.yaml: no problem at
 * all, warnings included. The file turns two rules off, each with its reason; the tests
 * below show that reason holds, that the linter still finds a planted fault, and check
 * themselves what the two rules no longer do.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config, Linter, type Problem } from '@ibm/tekton-lint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifests, manifest, manifestFiles, type Manifest } from './manifests.js';

const RC_FILE = fileURLToPath(new URL('./tektonlintrc.yaml', import.meta.url));

async function lint(
  files: readonly string[],
  rules: Record<string, 'error' | 'off'> = {},
): Promise<Problem[]> {
  const config = new Config({ config: RC_FILE, _: [...files], 'max-warnings': -1, quiet: false });
  Object.assign(config.rulesConfig.rules, rules);
  return Linter.run(config);
}

const summary = (problems: readonly Problem[]) =>
  problems.map((p) => `${basename(p.path)}: ${p.level} ${p.rule}: ${p.message}`);

describe('tekton-lint on deploy/tekton', () => {
  let cacheDir: string;
  let objects: Manifest[];

  beforeAll(async () => {
    // tekton-lint creates its cache of external tasks (none here) under $TL_CACHE_DIR.
    cacheDir = await mkdtemp(join(tmpdir(), 'aviary-tekton-lint-'));
    process.env.TL_CACHE_DIR = cacheDir;
    objects = await loadManifests();
  });

  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('reports no problem, errors or warnings', async () => {
    expect(summary(await lint(await manifestFiles()))).toEqual([]);
  });

  it('with no-missing-resource on, reports exactly the tasks resolved at run time (why it is off)', async () => {
    const problems = (await lint(await manifestFiles(), { 'no-missing-resource': 'error' })).filter(
      (p) => p.rule === 'no-missing-resource',
    );
    const resolved = objects
      .filter((o) => o.kind === 'Pipeline')
      .flatMap((p) =>
        (p.spec.tasks as { taskRef?: { resolver?: string } }[]).filter((t) => t.taskRef?.resolver),
      );
    expect(resolved.length).toBe(3);
    expect(problems.length).toBe(resolved.length);
    for (const p of problems) expect(p.message).toMatch(/references task 'undefined'/);
  });

  it('still finds a fault planted in a copy: a task given no value for a required param', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aviary-tekton-planted-'));
    try {
      const copies = [];
      for (const file of await manifestFiles()) {
        const copy = join(dir, basename(file));
        await copyFile(file, copy);
        copies.push(copy);
      }
      const build = join(dir, '30-apps-build.yaml');
      const text = await readFile(build, 'utf8');
      const planted = text.replace(/\n {8}- name: ref-sha\n {10}value: \$\(params\.ref-sha\)/, '');
      expect(planted).not.toBe(text);
      await writeFile(build, planted);
      const problems = await lint(copies);
      expect(summary(problems)).toEqual([
        expect.stringMatching(/30-apps-build\.yaml: error no-missing-param: .*'ref-sha' is not supplied/),
        expect.stringMatching(/30-apps-build\.yaml: warning no-unused-param: .*'ref-sha'/),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every reference resolves (what no-missing-resource would check)', () => {
    const names = (kind: string) =>
      new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
    const tasks = names('Task');
    for (const listener of objects.filter((o) => o.kind === 'EventListener')) {
      for (const trigger of listener.spec.triggers as {
        bindings: { ref: string }[];
        template: { ref: string };
      }[]) {
        for (const binding of trigger.bindings) manifest(objects, 'TriggerBinding', binding.ref);
        manifest(objects, 'TriggerTemplate', trigger.template.ref);
      }
    }
    for (const template of objects.filter((o) => o.kind === 'TriggerTemplate')) {
      for (const run of template.spec.resourcetemplates as Manifest[])
        manifest(objects, 'Pipeline', run.spec.pipelineRef.name as string);
    }
    for (const pipeline of objects.filter((o) => o.kind === 'Pipeline')) {
      const all = [...pipeline.spec.tasks, ...(pipeline.spec.finally ?? [])] as {
        name: string;
        taskRef: { name?: string; resolver?: string };
      }[];
      for (const task of all) {
        const ok = task.taskRef.resolver !== undefined || tasks.has(task.taskRef.name ?? '');
        expect(ok, `${pipeline.metadata.name}: task ${task.name}`).toBe(true);
      }
    }
  });

  it('every name deploy/tekton declares is kebab-case (what prefer-kebab-case would check)', () => {
    const declared: string[] = [];
    for (const o of objects.filter((o) => o.apiVersion.includes('tekton.dev'))) {
      declared.push(o.metadata.name);
      for (const key of ['params', 'workspaces', 'results', 'tasks', 'finally', 'steps', 'triggers'])
        for (const item of (o.spec?.[key] ?? []) as { name: string }[]) declared.push(item.name);
    }
    expect(declared.length).toBeGreaterThan(50);
    expect(declared.filter((name) => !/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name))).toEqual([]);
  });
});
