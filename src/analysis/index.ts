/**
 * The analysis concern's public surface: the sequential judge that compares a canary with the
 * primary, and its configuration (`analysis.judge`, whose schema is config/app-judge.ts).
 */
export { judgeStep, type JudgeStepResult, type JudgeWindow, type VersionWindow } from './judge.js';
export { initJudgeState, type JudgeState, type VersionTotals } from './judge-state.js';
export {
  assess,
  mayAdvance,
  type ErrorEvidence,
  type JudgeDecision,
  type JudgeEvidence,
  type JudgeVerdict,
} from './judge-decision.js';
export type { LatencyQuantileEvidence, BandEvidence } from './latency-test.js';
export type { TailEvidence, TailThresholdEvidence } from './tail-test.js';
export type { LatencyBuckets } from './bucket-counts.js';
export { splitAlpha, type AlphaSplit } from './alpha-split.js';
export {
  DEFAULT_JUDGE_CONFIG,
  judgeConfigSchema,
  parseJudgeConfig,
  type JudgeConfig,
} from '../config/app-judge.js';
