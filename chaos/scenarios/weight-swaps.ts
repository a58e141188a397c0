/**
 * Issue 16, §1, router config swaps: the built `aviary proxy` (the data plane `aviary up`
 * supervises) splits a service between two backend processes while its admin API receives
 * 10,000 weight changes (seeded weights, four at a time), under 200 concurrent keep-alive
 * connections that each POST a streamed request body and read a streamed response body.
 * What must hold: every weight change is accepted, not one request fails or is answered
 * short, not one connection is reset, both versions answer during the swaps, and the last
 * weights set are the ones the proxy holds.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { AVIARY_BIN } from '../aviary-up.js';
import type { RunScope } from '../run-scope.js';
import { total, type RunContext, type Scenario } from '../scenario.js';
import { waitUntil } from '../waiting.js';

const FULL_CHANGES = 10_000;
const FULL_CONNECTIONS = 200;
/** With --quick (CI): the same checks on fewer changes and connections. */
const QUICK_CHANGES = 1_000;
const QUICK_CONNECTIONS = 50;
const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
/** Request body: chunks of this many bytes, sent a few ms apart. */
const CHUNK = 'x'.repeat(512);
const REQUEST_CHUNKS = 4;
/** Pause of each client between its requests: 200 connections stay open without starving the admin API of CPU. */
const PAUSE_MS = 20;

/**
 * A backend version: reads the whole streamed request body, then streams its answer in
 * eight chunks a few ms apart, ending with `version <v> received <bytes>`.
 */
const BACKEND = `
const http = require('node:http');
const version = process.env.VERSION;
const server = http.createServer((req, res) => {
  let received = 0;
  req.on('data', (chunk) => (received += chunk.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const next = () => {
      if (sent++ < 8) { res.write('y'.repeat(256)); setTimeout(next, 2); }
      else res.end('\\nversion ' + version + ' received ' + received);
    };
    next();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

/** The weight-swap scenario. */
export const weightSwapsScenario: Scenario = {
  name: 'router-weight-swaps',
  summary: `${FULL_CHANGES.toLocaleString('en')} weight changes through aviary proxy's admin API under ${FULL_CONNECTIONS} keep-alive connections with streamed bodies`,
  defaultRuns: 1,
  runTimeoutMs: 300_000,
  run: swapUnderLoad,
  keyFigure(runs) {
    return (
      `${total(runs, 'failedRequests')} of ${total(runs, 'requests').toLocaleString('en')} requests failed, ` +
      `${total(runs, 'resets')} resets; ${total(runs, 'changes').toLocaleString('en')} weight changes applied`
    );
  },
};

async function startBackend(scope: RunScope, version: string, signal: AbortSignal): Promise<string> {
  const backend = scope.spawn(process.execPath, ['-e', BACKEND], { VERSION: version });
  const port = await waitUntil(
    'a backend to listen',
    () => /listening (\d+)/.exec(backend.output())?.[1],
    signal,
    backend.output,
  );
  return `127.0.0.1:${port}`;
}

async function swapUnderLoad(context: RunContext): Promise<void> {
  const { scope, signal, random } = context;
  const changes = context.quick ? QUICK_CHANGES : FULL_CHANGES;
  const connections = context.quick ? QUICK_CONNECTIONS : FULL_CONNECTIONS;
  const dir = await scope.tempDir();
  const v1 = await startBackend(scope, '1', signal);
  const v2 = await startBackend(scope, '2', signal);
  const config = join(dir, 'router.yaml');
  await writeFile(
    config,
    `listeners: [{name: main, host: 127.0.0.1, port: 0}]
services:
  - name: catalogdetail
    versions:
      - {name: v1, endpoints: ['${v1}'], connectionsPerEndpoint: ${connections}}
      - {name: v2, endpoints: ['${v2}'], connectionsPerEndpoint: ${connections}}
    routes:
      - name: main
        match: {path: {prefix: /}}
        targets: [{version: v1, weight: 50}, {version: v2, weight: 50}]
`,
  );
  const proxy = scope.spawn(
    process.execPath,
    [AVIARY_BIN, 'proxy', '--config', config, '--admin', '127.0.0.1:0', '--token-file', join(dir, 'token')],
    { AVIARY_TOKEN: ADMIN_TOKEN },
  );
  const routerUrl = await waitUntil(
    'aviary proxy to listen',
    () => /listener main on (http:\/\/\S+)/.exec(proxy.output())?.[1],
    signal,
    proxy.output,
  );
  const adminUrl = await waitUntil(
    'its admin API',
    () => /admin API on (http:\/\/\S+)/.exec(proxy.output())?.[1],
    signal,
    proxy.output,
  );

  // 200 clients, each on its own keep-alive connection, each request with a streamed body.
  const pool = new Pool(routerUrl, {
    connections: connections,
    keepAliveTimeout: 60_000,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  scope.defer(() => pool.destroy());
  let stopped = false;
  const outcome = {
    requests: 0,
    failed: 0,
    resets: 0,
    byVersion: new Map<string, number>(),
    examples: [] as string[],
  };
  const expectedBytes = CHUNK.length * REQUEST_CHUNKS;
  const client = async (): Promise<void> => {
    while (!stopped && !signal.aborted) {
      outcome.requests++;
      try {
        const body = Readable.from(
          (async function* () {
            for (let i = 0; i < REQUEST_CHUNKS; i++) {
              yield CHUNK;
              await new Promise((resolve) => setTimeout(resolve, 1));
            }
          })(),
        );
        const response = await pool.request({ path: '/work', method: 'POST', body });
        const text = await response.body.text();
        const match = /version (\d) received (\d+)$/.exec(text);
        if (
          response.statusCode !== 200 ||
          !match ||
          Number(match[2]) !== expectedBytes ||
          text.length !== 2048 + match[0].length + 1
        ) {
          outcome.failed++;
          if (outcome.examples.length < 5)
            outcome.examples.push(`status ${response.statusCode}: ${text.slice(-80)}`);
        } else outcome.byVersion.set(match[1]!, (outcome.byVersion.get(match[1]!) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      } catch (error) {
        outcome.failed++;
        const code = (error as { code?: string }).code ?? (error as Error).message;
        if (/RESET|SOCKET|EPIPE|other side closed/i.test(`${code} ${(error as Error).message}`))
          outcome.resets++;
        if (outcome.examples.length < 5) outcome.examples.push(code);
      }
    }
  };
  const clients = Array.from({ length: connections }, () => client());

  // The changes go four at a time (the admin API queues them in order); the last one alone.
  let accepted = 0;
  const rejected: string[] = [];
  const change = async (weights: Record<string, number>): Promise<void> => {
    const response = await fetch(`${adminUrl}/services/catalogdetail/routes/main/weights`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ weights }),
    });
    const text = await response.text();
    if (response.status === 200) accepted++;
    else if (rejected.length < 5) rejected.push(`${response.status} ${text.slice(0, 200)}`);
  };
  const drawn = (): Record<string, number> => {
    const w1 = random.int(0, 100);
    return { v1: w1, v2: 100 - w1 };
  };
  for (let made = 0; made < changes - 1 && !signal.aborted; made += 4) {
    await Promise.all(Array.from({ length: Math.min(4, changes - 1 - made) }, () => change(drawn())));
    if (made % 1000 === 0) context.log(`${made} changes, ${outcome.requests} requests`);
  }
  const last = drawn();
  await change(last);
  stopped = true;
  await Promise.all(clients);

  context.figure('changes', accepted);
  context.figure('requests', outcome.requests);
  context.figure('failedRequests', outcome.failed);
  context.figure('resets', outcome.resets);
  context.check(
    `all ${changes} weight changes are accepted`,
    accepted === changes,
    `${accepted}; ${rejected.join('; ')}`,
  );
  context.check(
    'no request fails or is answered short',
    outcome.failed === 0,
    `${outcome.failed} of ${outcome.requests}: ${outcome.examples.join('; ')}`,
  );
  context.check('no connection is reset', outcome.resets === 0, `${outcome.resets}`);
  context.check(
    'both versions answer during the swaps',
    (outcome.byVersion.get('1') ?? 0) > 0 && (outcome.byVersion.get('2') ?? 0) > 0,
    JSON.stringify([...outcome.byVersion]),
  );
  const held = (await (await fetch(`${adminUrl}/config`)).json()) as any;
  const targets = held.config.services[0].routes[0].targets as { version: string; weight: number }[];
  const weights = Object.fromEntries(targets.map((t) => [t.version, t.weight]));
  context.check(
    'the proxy holds the last weights set',
    JSON.stringify(weights) === JSON.stringify(last),
    `${JSON.stringify(weights)} vs ${JSON.stringify(last)}`,
  );
  context.check('the proxy ran throughout', !proxy.hasExited(), proxy.output().slice(-500));
  await pool.close();
  process.kill(proxy.pid, 'SIGTERM');
  await proxy.exited;
  context.check(
    'aviary proxy stops with exit code 0',
    proxy.child.exitCode === 0,
    `exit code ${proxy.child.exitCode}`,
  );
  context.log(`${outcome.requests} requests: ${JSON.stringify([...outcome.byVersion])}`);
}
