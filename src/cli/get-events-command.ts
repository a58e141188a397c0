/**
 * `aviary get events [APP] [--since 5m]`: the event history of every rollout (or one), oldest
 * first: time, app, reason, message, and under an event decided on the sequential judge's
 * evidence, that evidence (render-judge.ts). `--json` prints the API's event records,
 * evidence included.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../config/duration.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import { addApiOption, controlClientFor, type ApiOptions, type ControlClient } from './control-client.js';
import { EVENT_HEADERS, eventRow } from './render-rollout.js';
import { judgeCheckOf, judgeLines } from './render-judge.js';
import { renderTable } from './render-table.js';
import { terminalStyle, type TerminalStyle } from './render-terminal.js';

interface EventsOptions extends ApiOptions {
  readonly json?: boolean;
  /** Window in ms, parsed from `--since`. */
  readonly since?: number;
}

/** Parses `--since`: a duration such as `30s`, `5m`, `2h`. */
export function parseSince(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError(`expected a duration such as "30s", "5m" or "2h", got "${value}"`);
  return ms;
}

/** Events of `app` (or all apps) newer than `sinceMs` before `nowMs`; the whole history without it. */
export function readEvents(
  client: ControlClient,
  app: string | undefined,
  sinceMs: number | undefined,
  nowMs: number,
): Promise<RolloutEventRecord[]> {
  const after = sinceMs === undefined ? 0 : nowMs - sinceMs;
  const path = app === undefined ? '/api/v1/events' : `/api/v1/rollouts/${encodeURIComponent(app)}/events`;
  return client.get<RolloutEventRecord[]>(`${path}?since=${after}`);
}

/** Runs `aviary get events`. */
export async function runGetEvents(app: string | undefined, options: EventsOptions): Promise<void> {
  const events = await readEvents(controlClientFor(options), app, options.since, Date.now());
  if (options.json) {
    process.stdout.write(JSON.stringify(events, null, 2) + '\n');
    return;
  }
  if (events.length === 0) {
    process.stdout.write(`no events${options.since !== undefined ? ' in that window' : ''}\n`);
    return;
  }
  process.stdout.write(renderEvents(terminalStyle(process.stdout), events).join('\n') + '\n');
}

/**
 * The events table, with the judge's evidence under each event that carries it. Events of
 * one tick share their evidence: it is printed under the first of them only, until the
 * app's judge evidence changes.
 */
export function renderEvents(style: TerminalStyle, events: readonly RolloutEventRecord[]): string[] {
  const [header = '', ...rows] = renderTable(style, EVENT_HEADERS, events.map(eventRow));
  const lines = [header];
  const shown = new Map<string, string>();
  events.forEach((event, i) => {
    lines.push(rows[i] ?? '');
    const check = judgeCheckOf(event.evidence);
    if (check === undefined) return;
    const key = JSON.stringify(check);
    if (shown.get(event.app) === key) return;
    shown.set(event.app, key);
    lines.push(...judgeLines(check, style));
  });
  return lines;
}

/** Registers `aviary get` and its `events` subcommand. */
export function registerGetCommand(program: Command): void {
  const get = program
    .command('get')
    .description('read objects from the control API (see: aviary get events --help)')
    .addHelpText(
      'after',
      `
Examples:
  aviary get events
  aviary get events catalogdetail --since 5m`,
    );
  const events = get
    .command('events')
    .description('show the event history of every rollout, or of one app, oldest first')
    .argument('[app]', 'show only this app')
    .option('--since <duration>', 'only events newer than this, e.g. 30s, 5m, 2h', parseSince)
    .option('--json', 'print the event records as JSON (with the evidence behind each decision)');
  addApiOption(events)
    .addHelpText(
      'after',
      `
Examples:
  aviary get events
  aviary get events catalogdetail --since 5m
  aviary get events --json | jq '.[] | select(.severity == "warning")'`,
    )
    .action(async (app: string | undefined, options: EventsOptions) => {
      await runGetEvents(app, options);
    });
}
