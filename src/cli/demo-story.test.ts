/**
 * The demo's texts agree with what it does (issue 11, §6): the least duration the demo
 * announces is read off its own configuration, and the README states the same figures.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoConfig, storyMinimumSeconds, type DemoSettings } from './demo-story.js';

const settings = (fast: boolean): DemoSettings => ({
  stateDir: '.aviary/demo',
  routerPort: 8080,
  apiPort: 8081,
  fast,
});
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the demo story', () => {
  it('announces a least duration of one analysis interval per step of v2 (steps, promotion, finalising) and v3', () => {
    for (const fast of [true, false]) {
      const analysis = demoConfig(settings(fast), {}).apps[0]!.canary.analysis;
      const intervals = analysis.maxWeight / analysis.stepWeight! + 3;
      expect(storyMinimumSeconds(settings(fast))).toBe((intervals * analysis.interval) / 1000);
    }
  });

  it('is described in the README with the figures the demo announces', () => {
    expect(README).toContain(`The\nstory takes at least ${storyMinimumSeconds(settings(false))} s`);
    expect(README).toContain(`at least ${storyMinimumSeconds(settings(true))} s of story`);
  });

  it('turns the judge on for catalogdetail, so v3 can be caught by it', () => {
    const analysis = demoConfig(settings(true), {}).apps[0]!.canary.analysis;
    expect(analysis.judge).toBeDefined();
    expect(analysis.metrics.map((m) => m.name)).toContain('judge');
  });
});
