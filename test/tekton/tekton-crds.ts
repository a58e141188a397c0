/**
 * Tekton's CRDs for the test control plane, from Tekton's own Go modules at pinned versions
 * through the Go module proxy, the way test/cluster takes Gateway API's (`go mod download
 * -json` gives the module's directory in the module cache, checked against sum.golang.org):
 * Pipelines' config/300-crds (each with a full openAPIV3Schema) and Triggers'
 * config/300-*.yaml CRDs (which carry none: x-kubernetes-preserve-unknown-fields).
 *
 * The versions are pinned here, not in a wrapper module's go.mod as test/cluster/go does:
 * a go.mod requiring github.com/tektoncd/pipeline would need its whole dependency graph in
 * go.sum, and only two directories of files are used. The proxy refuses to list either
 * module's versions (403), so `@latest` cannot be asked: these are exact versions it serves,
 * and Triggers v0.37.0's go.mod requires Pipelines v1.15.0.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** github.com/tektoncd/pipeline at this version. */
export const TEKTON_PIPELINE_VERSION = 'v1.15.0';
/** github.com/tektoncd/triggers at this version. */
export const TEKTON_TRIGGERS_VERSION = 'v0.37.0';

/**
 * The module cache directory of `module@version`. Run outside any go.mod (here: test/tekton),
 * so no module's requirements are involved; throws with the go command's own error.
 */
export async function goModuleDir(module: string, version: string): Promise<string> {
  const cwd = fileURLToPath(new URL('.', import.meta.url));
  let stdout: string;
  try {
    ({ stdout } = await run('go', ['mod', 'download', '-json', `${module}@${version}`], {
      cwd,
      timeout: 300_000,
    }));
  } catch (error) {
    // go mod download -json prints its error in the JSON on stdout and exits 1.
    stdout = (error as { stdout?: string }).stdout ?? '';
    if (!stdout.includes('"Error"')) throw error;
  }
  const answer = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (answer.Dir === undefined)
    throw new Error(`go mod download ${module}@${version}: ${answer.Error ?? 'no Dir in the answer'}`);
  return answer.Dir;
}

/** The CRD files of Tekton Pipelines and Triggers at the pinned versions. */
export async function tektonCrdFiles(): Promise<{ pipelines: string[]; triggers: string[] }> {
  const pipeline = join(
    await goModuleDir('github.com/tektoncd/pipeline', TEKTON_PIPELINE_VERSION),
    'config',
    '300-crds',
  );
  const triggers = join(await goModuleDir('github.com/tektoncd/triggers', TEKTON_TRIGGERS_VERSION), 'config');
  const yamlIn = async (dir: string) =>
    (await readdir(dir))
      .filter((n) => n.endsWith('.yaml'))
      .sort()
      .map((n) => join(dir, n));
  const isCrd = async (file: string) =>
    /^kind: CustomResourceDefinition$/m.test(await readFile(file, 'utf8'));
  const pick = async (files: string[]) => {
    const flags = await Promise.all(files.map(isCrd));
    return files.filter((_, i) => flags[i]);
  };
  return { pipelines: await pick(await yamlIn(pipeline)), triggers: await pick(await yamlIn(triggers)) };
}
