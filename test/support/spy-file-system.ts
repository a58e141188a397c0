/** Test helpers of the state stores: a file system that logs, gates and fails its steps. */
import { basename } from 'node:path';
import { nodeStateFileSystem, type StateFileSystem } from '../../src/rollout/state/state-files.js';

export type Operation = keyof StateFileSystem;

/**
 * The real file system with a log of every step, the most steps of one kind seen in flight,
 * an optional gate that holds writes until opened, and a hook that may fail a step.
 */
export class SpyFileSystem implements StateFileSystem {
  readonly log: { op: Operation; path: string }[] = [];
  readonly inFlight = new Map<Operation, number>();
  readonly maxInFlight = new Map<Operation, number>();
  gate: Promise<void> | undefined;
  /** Holds journal appends until resolved. */
  gateAppends: Promise<void> | undefined;
  failWith: ((op: Operation, path: string) => Error | undefined) | undefined;

  count(op: Operation, name?: string): number {
    return this.log.filter((e) => e.op === op && (name === undefined || basename(e.path) === name)).length;
  }

  private async step(op: Operation, path: string, run: () => Promise<void>): Promise<void> {
    this.log.push({ op, path });
    const now = (this.inFlight.get(op) ?? 0) + 1;
    this.inFlight.set(op, now);
    this.maxInFlight.set(op, Math.max(now, this.maxInFlight.get(op) ?? 0));
    try {
      if (op === 'writeDurably') await this.gate;
      if (op === 'append') await this.gateAppends;
      const error = this.failWith?.(op, path);
      if (error) throw error;
      await run();
    } finally {
      this.inFlight.set(op, (this.inFlight.get(op) ?? 1) - 1);
    }
  }

  writeDurably(path: string, data: string): Promise<void> {
    return this.step('writeDurably', path, () => nodeStateFileSystem.writeDurably(path, data));
  }
  append(path: string, data: string): Promise<void> {
    return this.step('append', path, () => nodeStateFileSystem.append(path, data));
  }
  rename(from: string, to: string): Promise<void> {
    return this.step('rename', to, () => nodeStateFileSystem.rename(from, to));
  }
  remove(path: string): Promise<void> {
    return this.step('remove', path, () => nodeStateFileSystem.remove(path));
  }
  syncDirectory(dir: string): Promise<void> {
    return this.step('syncDirectory', dir, () => nodeStateFileSystem.syncDirectory(dir));
  }
  makeDirectory(dir: string): Promise<void> {
    return this.step('makeDirectory', dir, () => nodeStateFileSystem.makeDirectory(dir));
  }
}
