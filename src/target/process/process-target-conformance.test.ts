import { afterAll, expect } from 'vitest';
import {
  HTTP_APP,
  httpAppSpec,
  makeStateDir,
  ProcessLeakCheck,
  removeStateDir,
} from '../../../test/fixtures/apps/http-app-spec.js';
import { runTargetConformance } from '../../../test/conformance/target-conformance.js';
import { ProcessTarget } from './process-target.js';

const leaks = new ProcessLeakCheck();

runTargetConformance({
  name: `ProcessTarget running ${HTTP_APP}`,
  create: async () => {
    const stateDir = await makeStateDir();
    return {
      target: new ProcessTarget({
        stateDir,
        stopGraceMs: 2000,
        restartBackoff: { initialMs: 50, maxMs: 500 },
      }),
      healthySpec: (variant, replicas) => httpAppSpec({ ...leaks.env, APP_VERSION: variant }, replicas),
      failingSpec: (replicas) => httpAppSpec({ ...leaks.env, FAIL_START: '1' }, replicas),
      dispose: () => removeStateDir(stateDir),
    };
  },
});

afterAll(async () => {
  expect(await leaks.leftovers()).toEqual([]);
});
