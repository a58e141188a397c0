/**
 * The resident memory of one process of a chaos run, sampled from /proc while a fault is
 * applied (the soak runner's reading, `VmRSS`), to check that it stays bounded.
 */
import { processUse } from '../soak/aviary-processes.js';
import { sleep } from './waiting.js';

/** A running sampler: `now` reads the RSS once, `stop` ends sampling and answers the peak; both in MB. */
export interface RssSampler {
  now(): Promise<number>;
  stop(): Promise<number>;
}

/** Samples the RSS of `pid` every 100 ms until stopped. */
export function sampleRss(pid: number, signal: AbortSignal): RssSampler {
  const now = async () => ((await processUse(pid, new Set()))?.rssBytes ?? 0) / 2 ** 20;
  let peak = 0;
  let sampling = true;
  const loop = (async () => {
    while (sampling && !signal.aborted) {
      peak = Math.max(peak, await now());
      await sleep(100, signal);
    }
  })();
  return {
    now,
    async stop(): Promise<number> {
      sampling = false;
      await loop;
      return Math.max(peak, await now());
    },
  };
}
