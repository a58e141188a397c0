/**
 * A wall-clock jump from outside the product, as an NTP step or a VM resume makes one:
 * libfaketime (Debian's `faketime`) preloaded into `aviary up` and the proxy it supervises,
 * reading its offset from a file on every clock read, so the offset can change mid-run.
 * CLOCK_MONOTONIC is left real (`FAKETIME_DONT_FAKE_MONOTONIC`), as it is after a real step,
 * so timers and `performance.now()` go on undisturbed while `Date.now()` jumps.
 */
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where Debian's libfaketime 0.9.x installs its library. */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/** The offset file of one run and the environment that makes a process follow it. */
export class FakeClock {
  private constructor(
    /** The file libfaketime reads the offset from (`+3600`, `-3600`, `+0`). */
    readonly file: string,
  ) {}

  /** A clock at offset 0 with its file in `dir`; rejects naming the package when libfaketime is absent. */
  static async create(dir: string): Promise<FakeClock> {
    try {
      await access(LIBFAKETIME);
    } catch {
      throw new Error(`${LIBFAKETIME} not found: install Debian's faketime (apt-get install -y faketime)`);
    }
    const clock = new FakeClock(join(dir, 'faketime-offset'));
    await clock.setOffsetSeconds(0);
    return clock;
  }

  /** The environment of a process whose wall clock follows {@link setOffsetSeconds}. */
  env(): Record<string, string> {
    return {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_TIMESTAMP_FILE: this.file,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  /** Sets the wall clock of every process under {@link env} to real time plus `seconds`. */
  setOffsetSeconds(seconds: number): Promise<void> {
    return writeFile(this.file, `${seconds >= 0 ? '+' : ''}${seconds}\n`);
  }
}
