/**
 * The printed table of `npm run soak` (everything but its JSON line), and the same as
 * Markdown for `--report` (docs/soak.md).
 */
import { renderTable } from '../src/cli/render-table.js';
import { PLAIN } from '../src/cli/render-terminal.js';
import { FULL_WARMUP_SECONDS } from './soak-options.js';
import { MAX_RSS_GROWTH, type SoakSummary } from './soak-summary.js';

const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x}`;
const verdict = (met: boolean | null): string =>
  met === null ? `not judged: measured before ${FULL_WARMUP_SECONDS} s of warm-up` : met ? 'met' : 'MISSED';

/** The table of processes, then one line each on requests, rollouts and the journal, then the targets. */
export function reportLines(s: SoakSummary): string[] {
  const { soak, requests, rollouts, journal, machine, targets } = s;
  const window =
    soak.measuredFromSeconds === null
      ? 'no idle point after the warm-up: nothing measured'
      : `measured from ${soak.measuredFromSeconds} s (after the warm-up) to ${soak.measuredToSeconds} s, each figure the floor of ${soak.windowSeconds} s of samples`;
  const processRows = s.processes.map((p) => [
    p.role,
    String(p.pid),
    `${p.rssMb.start} MB`,
    `${p.rssMb.end} MB`,
    `${signed(p.rssGrowthPct)}%`,
    String(p.fds.start),
    String(p.fds.end),
    `${p.connections.start} → ${p.connections.end}`,
    p.eventLoopP99Ms === null ? '—' : `${p.eventLoopP99Ms.end} ms`,
    p.eventLoopP99Ms === null ? '—' : `${p.eventLoopP99Ms.worst} ms`,
  ]);
  const rssFigures = s.processes.map((p) => `${p.role} ${signed(p.rssGrowthPct)}%`).join(', ') || 'none';
  const fdFigures = s.processes.map((p) => `${p.role} ${p.fds.start}→${p.fds.end}`).join(', ') || 'none';
  const reasons = Object.entries(requests.aviaryReasons)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  return [
    `soak: ${soak.durationSeconds} s of load at ${soak.ratePerSecond} req/s, a release every ${soak.everySeconds} s; ${window}`,
    `machine: ${machine.cpus} CPUs shared with other work, load average ${machine.loadAverage1m.start} → ${machine.loadAverage1m.end}`,
    '',
    ...renderTable(
      PLAIN,
      [
        'process',
        'pid',
        'RSS start',
        'RSS end',
        'growth',
        'fds start',
        'fds end',
        'connections',
        'loop p99 end',
        'loop p99 worst',
      ],
      processRows,
    ),
    'fds: open descriptors but established TCP connections; connections: those, start → end',
    '',
    `requests: ${requests.sent} sent, ${requests.ok} ok, ${requests.appFailures} failed by faulty releases, ${requests.aviaryFailures} failed by Aviary${reasons === '' ? '' : ` (${reasons})`}, ${requests.notSent} not sent`,
    `rollouts: ${rollouts.total} releases, ${rollouts.promoted} promoted, ${rollouts.rolledBack} rolled back, ${rollouts.unexpected} unexpected; longest ${rollouts.longestSeconds} s to settle`,
    `journal: ${journal.startBytes} → ${journal.endBytes} bytes of journal, ${journal.snapshotBytes} bytes of snapshots, ${journal.folds} folds (it seals and folds at 16 MiB); ${journal.bytesPerRelease} bytes per release`,
    '',
    ...renderTable(
      PLAIN,
      ['target', 'figure', 'verdict'],
      [
        [
          `RSS growth ≤ ${MAX_RSS_GROWTH * 100}% after warm-up`,
          rssFigures,
          verdict(targets.rssGrowthAtMost10Pct),
        ],
        ['no fd growth', fdFigures, verdict(targets.noFdGrowth)],
        [
          '0 failed requests attributable to Aviary',
          `${requests.aviaryFailures} failed, ${requests.notSent} not sent`,
          verdict(targets.zeroAviaryFailures),
        ],
        [
          'good releases promoted, faulty rolled back',
          `${rollouts.unexpected} of ${rollouts.total} unexpected`,
          verdict(targets.rolloutsAsExpected),
        ],
        [
          'same Aviary processes throughout',
          s.processes.map((p) => `${p.role} ${p.pid}`).join(', '),
          verdict(targets.processesStable),
        ],
      ],
    ),
    ...(s.error === undefined ? [] : ['', `run ended early: ${s.error}`]),
    '',
    s.pass ? 'soak: every target judged was met' : 'soak: FAILED',
  ];
}

/** docs/soak.md: the command, the table and the JSON line of one run. */
export function reportMarkdown(s: SoakSummary, command: string, at: Date): string {
  return [
    '# Soak figures',
    '',
    `Written by \`${command}\` on ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC; how the run works and what counts`,
    "as Aviary's failure: [ADR 0028](adr/0028-soak-runner.md). The machine has two cores shared with other",
    'work, so the event-loop figures say more about the machine than about Aviary.',
    '',
    '```text',
    ...reportLines(s),
    '```',
    '',
    '```json',
    JSON.stringify(s),
    '```',
    '',
  ].join('\n');
}
