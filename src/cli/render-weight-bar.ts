/**
 * The traffic split as a bar, `primary ████████░░ canary 20%`: filled cells for the primary's
 * share, light cells for the canary's. Any non-zero share gets at least one cell, so a 2 %
 * canary is never drawn as no canary at all.
 */
import type { Segment } from './render-terminal.js';

/** Cells of the bar when no width is given. */
export const WEIGHT_BAR_WIDTH = 10;

/** Cells given to the canary for `canaryWeight` (0–100) on a bar of `width` cells. */
export function canaryCells(canaryWeight: number, width = WEIGHT_BAR_WIDTH): number {
  const weight = Math.min(100, Math.max(0, Number.isFinite(canaryWeight) ? canaryWeight : 0));
  if (weight === 0) return 0;
  if (weight === 100) return width;
  return Math.min(width - 1, Math.max(1, Math.round((weight / 100) * width)));
}

/** The bar alone, e.g. `████████░░` for 20 %. */
export function weightBar(canaryWeight: number, width = WEIGHT_BAR_WIDTH): string {
  const canary = canaryCells(canaryWeight, width);
  return '█'.repeat(width - canary) + '░'.repeat(canary);
}

function percent(weight: number): string {
  return `${Number.isInteger(weight) ? weight : weight.toFixed(1)}%`;
}

/** `primary ████████░░ canary 20%` as coloured segments (primary green, canary yellow). */
export function weightBarSegments(canaryWeight: number, width = WEIGHT_BAR_WIDTH): Segment[] {
  const canary = canaryCells(canaryWeight, width);
  return [
    ['primary '],
    ['█'.repeat(width - canary), 'green'],
    ['░'.repeat(canary), 'yellow'],
    [` canary ${percent(canaryWeight)}`],
  ];
}
