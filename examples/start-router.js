// The main job until the full demo lands: two versions of the demo's catalogdetail backend
// behind Aviary's proxy at 90/10 (examples/router.yaml). Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const children = [];
const start = (args, env) => {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  children.push(child);
  return child;
};

start(['demo/apps/catalogdetail.js'], { PORT: '3001', VERSION: '1' });
start(['demo/apps/catalogdetail.js'], { PORT: '3002', VERSION: '2' });
const router = start([
  'bin/aviary.js',
  'proxy',
  '--config',
  'examples/router.yaml',
  '--admin',
  '127.0.0.1:9901',
]);

console.log(`
catalogdetail v1 and v2 run behind the router at 90/10:
  curl http://127.0.0.1:8080/catalogDetail                        (mostly v1)
  curl -H 'x-canary: insider' http://127.0.0.1:8080/catalogDetail (always v2)
  curl http://127.0.0.1:9901/metrics                              (Prometheus metrics)
  curl -X PUT -H "Authorization: Bearer $(cat .aviary/token)" -d '{"weights":{"v1":50,"v2":50}}' \\
       http://127.0.0.1:9901/services/catalogdetail/routes/main/weights
Press Ctrl-C to stop.
`);

const stop = () => {
  for (const child of children) child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
router.on('exit', (code) => {
  stop();
  process.exitCode = code ?? 0;
});
