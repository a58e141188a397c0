import { closeSync, existsSync, writeSync } from 'node:fs';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStateDir, removeStateDir } from '../../../test/fixtures/apps/http-app-spec.js';
import { pollUntil } from '../../../test/support/poll.js';
import { ReplicaOutput, type ReplicaOutputOptions } from './replica-output.js';
import { VersionLog } from './version-log.js';

let dir: string;
let log: VersionLog;
let addressInUse: number;
const outputs: ReplicaOutput[] = [];
const descriptors: number[] = [];

/** Opens the files as for a child; the test writes through the descriptors as the child would. */
function openAsChild(replicaOutput: ReplicaOutput): { stdout: number; stderr: number } {
  const opened = replicaOutput.openForChild();
  descriptors.push(opened.stdout, opened.stderr);
  return opened;
}

function output(options: Partial<ReplicaOutputOptions> = {}): ReplicaOutput {
  const made = new ReplicaOutput({
    logDir: dir,
    app: 'shop',
    role: 'canary',
    revision: 'rev1',
    replica: 1,
    log,
    pollMs: 20,
    maxFileBytes: 1024 * 1024,
    onAddressInUse: () => (addressInUse += 1),
    ...options,
  });
  outputs.push(made);
  return made;
}

const texts = () => log.lines().map((line) => `r${line.replica} ${line.stream} ${line.text}`);

beforeEach(async () => {
  dir = await makeStateDir();
  log = new VersionLog({ logDir: dir, app: 'shop', role: 'canary', capacity: 100, now: Date.now });
  addressInUse = 0;
});

afterEach(async () => {
  for (const fd of descriptors.splice(0)) closeSync(fd);
  for (const made of outputs.splice(0)) made.close({ remove: true });
  await log.close();
  await removeStateDir(dir);
});

describe('ReplicaOutput', () => {
  it('turns bytes appended to either file into lines of their stream, across reads', async () => {
    const replicaOutput = output();
    const { stdout, stderr } = openAsChild(replicaOutput);
    const [stdoutPath, stderrPath] = replicaOutput.paths;
    expect([stdoutPath, stderrPath]).toEqual([
      `${dir}/shop-canary-rev1-r1.stdout`,
      `${dir}/shop-canary-rev1-r1.stderr`,
    ]);
    expect((await stat(stdoutPath)).mode & 0o777).toBe(0o600);
    writeSync(stdout, 'hello wo');
    writeSync(stderr, 'listen EADDRINUSE: address already in use\n');
    replicaOutput.drain();
    writeSync(stdout, 'rld\n€ and more\n');
    replicaOutput.drain();
    expect(texts()).toEqual([
      'r1 stderr listen EADDRINUSE: address already in use',
      'r1 stdout hello world',
      'r1 stdout € and more',
    ]);
    expect(addressInUse).toBe(1);
  });

  it('follows the files on its own timer', async () => {
    const replicaOutput = output();
    const { stdout } = openAsChild(replicaOutput);
    writeSync(stdout, 'one\ntwo\n');
    expect(await pollUntil(() => (texts().length === 2 ? texts() : undefined))).toEqual([
      'r1 stdout one',
      'r1 stdout two',
    ]);
  });

  it('starts at the end of files it adopts, leaving older output out of the log', async () => {
    const [stdoutPath] = output().paths;
    await writeFile(stdoutPath, 'written before adoption\n');
    const adopting = output();
    adopting.follow();
    await appendFile(stdoutPath, 'written after adoption\n');
    adopting.drain();
    expect(texts()).toEqual(['r1 stdout written after adoption']);
  });

  it('empties a file past its size limit once read, and reads what the child appends next', async () => {
    const replicaOutput = output({ maxFileBytes: 100 });
    const { stdout } = openAsChild(replicaOutput);
    const [stdoutPath] = replicaOutput.paths;
    writeSync(stdout, `${'x'.repeat(150)}\n`);
    replicaOutput.drain();
    expect((await stat(stdoutPath)).size).toBe(0);
    writeSync(stdout, 'after the cut\n');
    replicaOutput.drain();
    expect(texts()).toEqual([`r1 stdout ${'x'.repeat(150)}`, 'r1 stdout after the cut']);
    expect(await readFile(stdoutPath, 'utf8')).toBe('after the cut\n');
  });

  it('keeps the files for an adopting controller on release and deletes them on stop', () => {
    const released = output();
    const { stdout } = openAsChild(released);
    writeSync(stdout, 'last words without a newline');
    released.close({ remove: false });
    expect(texts()).toEqual(['r1 stdout last words without a newline']);
    expect(released.paths.every((path) => existsSync(path))).toBe(true);

    const stopped = output();
    stopped.follow();
    stopped.close({ remove: true });
    expect(stopped.paths.some((path) => existsSync(path))).toBe(false);
  });
});
