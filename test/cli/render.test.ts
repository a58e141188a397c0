// The CLI's rendering: weight bars, tables, terminal detection, and the watch printer's
// redraw-in-place (terminal) versus appended lines (pipes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
import { statusIn, appSpec } from '../support/rollout-scenario.js';
import type { RolloutView } from '../../src/rollout/controller/controller.js';
import { checkLines, statusRow, type RolloutSummary } from '../../src/cli/render-rollout.js';
import { renderTable } from '../../src/cli/render-table.js';
import {
  PLAIN,
  renderLine,
  stripAnsi,
  terminalStyle,
  type TerminalStyle,
} from '../../src/cli/render-terminal.js';
import { canaryCells, weightBar, weightBarSegments } from '../../src/cli/render-weight-bar.js';
import { WatchPrinter } from '../../src/cli/watch-command.js';
import { hasAnsi } from './cli-support.js';

const TTY: TerminalStyle = { colour: true, redraw: true, columns: 100 };

function view(overrides: Partial<RolloutView & { threshold: number }> = {}): RolloutSummary {
  return {
    app: 'catalogdetail',
    revision: '3f2a9c1d0b7e',
    status: statusIn(appSpec(), 'Progressing', { canaryWeight: 20, failedChecks: 1 }),
    lastChecks: {
      webhooks: [],
      metrics: [
        { name: 'request-success-rate', value: 99.5, sampleSize: 200, passed: true, detail: '99.50 >= 99' },
        { name: 'request-duration', value: 612, passed: false, detail: '612 > max 500' },
      ],
    },
    routing: { kind: 'set-routes', primaryWeight: 80, canaryWeight: 20, mirror: false, abTesting: false },
    pendingCommands: 0,
    ...overrides,
  };
}

const EVENT: RolloutEventRecord = {
  at: Date.UTC(2025, 0, 1, 12, 0, 0),
  app: 'catalogdetail',
  reason: 'Synced',
  message: 'Advance catalogdetail canary weight 20',
  severity: 'info',
  phase: 'Progressing',
  canaryWeight: 20,
};

describe('weight bar', () => {
  it('draws the primary filled and the canary light', () => {
    expect(weightBar(20)).toBe('████████░░');
    expect(weightBar(0)).toBe('██████████');
    expect(weightBar(100)).toBe('░░░░░░░░░░');
    expect(
      weightBarSegments(20)
        .map(([t]) => t)
        .join(''),
    ).toBe('primary ████████░░ canary 20%');
  });

  it('shows any non-zero share, never more cells than the bar, and grows with the weight', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.integer({ min: 2, max: 40 }),
        (a, b, width) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(weightBar(low, width)).toHaveLength(width);
          expect(canaryCells(low, width)).toBeLessThanOrEqual(canaryCells(high, width));
          if (low > 0) expect(canaryCells(low, width)).toBeGreaterThan(0);
          if (high < 100) expect(canaryCells(high, width)).toBeLessThan(width);
        },
      ),
    );
  });
});

describe('terminal style', () => {
  it('allows colours and redraws only on a terminal, and colours not with NO_COLOR', () => {
    expect(terminalStyle({ isTTY: false }, {})).toEqual(PLAIN);
    expect(terminalStyle({}, {})).toEqual(PLAIN);
    expect(terminalStyle({ isTTY: true, columns: 120 }, {})).toEqual({
      colour: true,
      redraw: true,
      columns: 120,
    });
    expect(terminalStyle({ isTTY: true, columns: 120 }, { NO_COLOR: '1' })).toEqual({
      colour: false,
      redraw: true,
      columns: 120,
    });
    expect(terminalStyle({ isTTY: true }, { NO_COLOR: '' }).colour).toBe(true);
    expect(terminalStyle({ isTTY: true }, { TERM: 'dumb' })).toEqual(PLAIN);
  });

  it('cuts lines to the width before colouring them', () => {
    const line = renderLine({ colour: true, redraw: true, columns: 11 }, [
      ['hello ', 'green'],
      ['wonderful world'],
    ]);
    expect(stripAnsi(line)).toBe('hello won…');
    expect([...stripAnsi(line)]).toHaveLength(10);
    expect(renderLine(PLAIN, [['hello ', 'green'], ['wonderful world']])).toBe('hello wonderful world');
  });
});

describe('tables', () => {
  it('pads columns to the widest cell and colours only on a terminal', () => {
    const rows = [
      ['catalogdetail', { text: 'Failed', colour: 'red' as const }, '0%'],
      ['frontend', 'Succeeded', '0%'],
    ];
    expect(renderTable(PLAIN, ['APP', 'PHASE', 'CANARY'], rows)).toEqual([
      'APP            PHASE      CANARY',
      'catalogdetail  Failed     0%',
      'frontend       Succeeded  0%',
    ]);
    const coloured = renderTable(TTY, ['APP', 'PHASE', 'CANARY'], rows);
    expect(coloured[1]).toContain('\u001b[31mFailed');
    expect(coloured.map(stripAnsi)).toEqual(renderTable(PLAIN, ['APP', 'PHASE', 'CANARY'], rows));
  });

  it('shows failed checks against the threshold when the API gives one', () => {
    const row = statusRow(view({ threshold: 5 }), EVENT, EVENT.at + 12_000);
    expect(row.map((cell) => (typeof cell === 'string' ? cell : cell.text))).toEqual([
      'catalogdetail',
      'Progressing',
      '20%',
      '1/5',
      '3f2a9c1d0b7e',
      '12s ago  Synced: Advance catalogdetail canary weight 20',
    ]);
  });

  it('lists each check with its value against its threshold', () => {
    expect(checkLines(view())).toEqual([
      { passed: true, name: 'request-success-rate', detail: '99.50 >= 99 (n=200)' },
      { passed: false, name: 'request-duration', detail: '612 > max 500' },
    ]);
  });
});

function printer(style: TerminalStyle, json = false): { printer: WatchPrinter; output: () => string } {
  let text = '';
  return {
    printer: new WatchPrinter({ write: (chunk) => (text += chunk), style, json, now: () => EVENT.at }),
    output: () => text,
  };
}

describe('watch printer', () => {
  it('redraws the block in place on a terminal', () => {
    const { printer: p, output } = printer(TTY);
    p.status(view());
    const first = output();
    expect(first.startsWith('\u001b[')).toBe(true);
    expect(stripAnsi(first)).toContain('primary ████████░░ canary 20%');
    expect(stripAnsi(first)).toContain('✗ request-duration      612 > max 500');
    const firstLines = first.split('\n').length - 1;
    p.event(EVENT);
    const second = output().slice(first.length);
    expect(second.startsWith(`\u001b[${firstLines}A\r\u001b[J`)).toBe(true);
    expect(stripAnsi(second)).toContain('Synced  Advance catalogdetail canary weight 20');
    p.status(view());
    expect(output()).toBe(first + second);
  });

  it('appends plain lines when piped, and only when something shown changed', () => {
    const { printer: p, output } = printer(PLAIN);
    p.status(view());
    p.status(view());
    p.event(EVENT);
    p.status(view({ status: statusIn(appSpec(), 'Progressing', { canaryWeight: 40 }) }));
    const lines = output().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('catalogdetail Progressing primary ████████░░ canary 20% failed 1');
    expect(lines[0]).toContain('request-duration 612 > max 500 FAILED');
    expect(lines[1]).toContain('catalogdetail Synced: Advance catalogdetail canary weight 20');
    expect(lines[2]).toContain('canary 40%');
    expect(hasAnsi(output())).toBe(false);
  });

  it('prints one JSON object per message with --json', () => {
    const { printer: p, output } = printer(TTY, true);
    p.status(view());
    p.event(EVENT);
    const lines = output()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.type)).toEqual(['status', 'event']);
    expect(lines[1].data).toEqual(EVENT);
    expect(hasAnsi(output())).toBe(false);
  });
});
