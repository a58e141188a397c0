/**
 * deploy/tekton on a real API server (test/cluster) with Tekton's CRDs from its Go modules
 * (tekton-crds.ts): every object applies server-side and is stored as written, the
 * Pipelines CRDs' schema is in force (a misspelt field is refused), and the PipelineRun each
 * TriggerTemplate renders from a recorded push is valid and named after the delivery, so a
 * redelivery is refused with AlreadyExists. No Tekton controller runs: nothing is executed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { kubectl } from '../cluster/kubectl.js';
import {
  TEKTON_DIR,
  bindParams,
  loadManifests,
  manifest,
  payload,
  renderTemplate,
  type Manifest,
} from './manifests.js';
import { tektonCrdFiles } from './tekton-crds.js';

const unavailable = await controlPlaneSkipReason();
const NAMESPACE = 'aviary-ci';

describe.skipIf(unavailable !== undefined)('deploy/tekton on a real API server with Tekton CRDs', () => {
  let plane: ControlPlane;
  let dir: string;
  let objects: Manifest[];
  const run = (args: readonly string[], stdin?: string) => kubectl(plane.kubeconfig, args, stdin);
  const outcome = (promise: Promise<string>) =>
    promise.then(
      (out) => `ok: ${out.trim()}`,
      (error: unknown) => (error as Error).message,
    );

  beforeAll(async () => {
    // A module the proxy will not serve fails here with the go command's own error.
    const crds = await tektonCrdFiles();
    dir = await mkdtemp(join(tmpdir(), 'aviary-tekton-'));
    plane = await startControlPlane({ dir, extraCrds: [...crds.pipelines, ...crds.triggers] });
    objects = await loadManifests();
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('installs the CRDs: Pipelines with a schema, Triggers without', async () => {
    const crd = async (name: string) => JSON.parse(await run(['get', 'crd', name, '-o', 'json']));
    const pipeline = await crd('pipelines.tekton.dev');
    const v1 = pipeline.spec.versions.find((v: { name: string }) => v.name === 'v1');
    expect(Object.keys(v1.schema.openAPIV3Schema.properties.spec.properties)).toContain('finally');
    const listener = await crd('eventlisteners.triggers.tekton.dev');
    const v1beta1 = listener.spec.versions.find((v: { name: string }) => v.name === 'v1beta1');
    expect(v1beta1.schema.openAPIV3Schema['x-kubernetes-preserve-unknown-fields']).toBe(true);
  });

  it('applies every file server-side, and stores each object as written', async () => {
    await run(['apply', '--server-side', '--field-manager=aviary-test', '-f', TEKTON_DIR]);
    const stored = JSON.parse(await run(['get', '-f', TEKTON_DIR, '-o', 'json'])) as { items: Manifest[] };
    expect(stored.items.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
    );
    for (const [i, object] of objects.entries()) {
      const { metadata, ...rest } = object;
      // A field the schema did not know would have been refused or pruned: the stored
      // object holds everything the file says.
      expect(stored.items[i], `${object.kind}/${metadata.name}`).toMatchObject({
        ...rest,
        metadata: { name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}) },
      });
    }
  });

  it("refuses a misspelt field under the Pipelines CRD's schema", async () => {
    const text = await readFile(join(TEKTON_DIR, '31-apps-deploy.yaml'), 'utf8');
    const pipeline = parse(text.replace('runAfter: [validate]', 'runafter: [validate]'));
    const message = await outcome(
      run(
        ['apply', '--server-side', '--dry-run=server', '--field-manager=aviary-test', '-f', '-'],
        JSON.stringify(pipeline),
      ),
    );
    expect(message).toMatch(/\.spec\.tasks\[3\]\.runafter: field not declared in schema/);
  });

  it.each([
    { trigger: 'apps-build', push: 'annotated-tag-push' },
    { trigger: 'apps-deploy', push: 'branch-push-main' },
  ])(
    '$trigger: the PipelineRun rendered from $push is valid, and a redelivery is AlreadyExists',
    async ({ trigger, push }) => {
      const render = async (deliveryId: string) => {
        const params = bindParams(manifest(objects, 'TriggerBinding', trigger), {
          body: await payload(push),
          headers: { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': deliveryId },
        });
        const [pipelineRun] = renderTemplate(manifest(objects, 'TriggerTemplate', trigger), params);
        return JSON.stringify(pipelineRun);
      };
      const first = await render('72d3162e-cc78-11e3-81ab-4c9367dc0958');
      expect(await outcome(run(['create', '-f', '-'], first))).toBe(
        `ok: pipelinerun.tekton.dev/${trigger}-72d3162e-cc78-11e3-81ab-4c9367dc0958 created`,
      );
      expect(await outcome(run(['create', '-f', '-'], first))).toMatch(/\(AlreadyExists\).*already exists/);
      const another = await render('9f0c7a3e-1d2b-4c5d-8e6f-a1b2c3d4e5f6');
      expect(await outcome(run(['create', '-f', '-'], another))).toMatch(/^ok: /);
      const runs = JSON.parse(
        await run([
          'get',
          'pipelineruns',
          '-n',
          NAMESPACE,
          '-l',
          'app.kubernetes.io/part-of=aviary',
          '-o',
          'json',
        ]),
      ) as { items: Manifest[] };
      const ours = runs.items.filter((r) => r.metadata.name.startsWith(`${trigger}-`));
      expect(ours.map((r) => r.metadata.name).sort()).toEqual([
        `${trigger}-72d3162e-cc78-11e3-81ab-4c9367dc0958`,
        `${trigger}-9f0c7a3e-1d2b-4c5d-8e6f-a1b2c3d4e5f6`,
      ]);
      expect(ours[0]!.spec.pipelineRef).toEqual({ name: trigger });
    },
  );
});
