/**
 * `aviary watch [APP]`: live progress from the control API's event stream. On a terminal it
 * redraws one block per app in place (phase, weight bar, last checks against thresholds,
 * last event); piped, it appends a line per change; with `--json`, one JSON object per
 * message (`{"type":"status"|"event","data":...}`). Ends at Ctrl-C (exit 0), when the
 * stream ends, or after one snapshot with `--once`.
 */
import type { Command } from 'commander';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import { addApiOption, controlClientFor, type ApiOptions } from './control-client.js';
import {
  statusFingerprint,
  watchBlock,
  watchEventLine,
  watchStatusLine,
  type RolloutSummary,
} from './render-rollout.js';
import { eraseLines, terminalStyle, type TerminalStyle } from './render-terminal.js';
import { readStatus, readThreshold } from './status-command.js';

interface WatchOptions extends ApiOptions {
  readonly json?: boolean;
  readonly once?: boolean;
}

/** Where a watch writes: a stream, its style, and a clock for the plain lines. */
export interface WatchOutput {
  readonly write: (text: string) => void;
  readonly style: TerminalStyle;
  readonly json: boolean;
  readonly now: () => number;
}

/**
 * Turns stream messages into output. On a redraw-capable terminal every update redraws
 * the whole block of every app; otherwise a status prints a line only when something
 * shown in it changed, so a quiet rollout stays quiet in a log.
 */
export class WatchPrinter {
  private readonly views = new Map<string, RolloutSummary>();
  private readonly lastEvents = new Map<string, RolloutEventRecord>();
  private readonly fingerprints = new Map<string, string>();
  private drawnLines = 0;
  private lastFrame = '';

  constructor(private readonly output: WatchOutput) {}

  /** A status message (a rollout view). */
  status(view: RolloutSummary): void {
    this.views.set(view.app, view);
    if (this.output.json) return this.output.write(JSON.stringify({ type: 'status', data: view }) + '\n');
    if (this.output.style.redraw) return this.redraw();
    const fingerprint = statusFingerprint(view);
    if (this.fingerprints.get(view.app) === fingerprint) return;
    this.fingerprints.set(view.app, fingerprint);
    this.output.write(watchStatusLine(view, this.output.now()) + '\n');
  }

  /** An event message. */
  event(event: RolloutEventRecord): void {
    const seen = this.lastEvents.get(event.app);
    if (!seen || event.at >= seen.at) this.lastEvents.set(event.app, event);
    if (this.output.json) return this.output.write(JSON.stringify({ type: 'event', data: event }) + '\n');
    if (this.output.style.redraw) return this.redraw();
    this.output.write(watchEventLine(event) + '\n');
  }

  private redraw(): void {
    const lines = [...this.views.values()].flatMap((view) =>
      watchBlock(this.output.style, view, this.lastEvents.get(view.app)),
    );
    const frame = lines.map((line) => line + '\n').join('');
    // Each tick sends a status; redrawing an unchanged frame would only flicker.
    if (frame === this.lastFrame) return;
    this.output.write(eraseLines(this.drawnLines) + frame);
    this.drawnLines = lines.length;
    this.lastFrame = frame;
  }
}

function parseMessage(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/** Runs `aviary watch` until Ctrl-C, the end of the stream, or one snapshot with `--once`. */
export async function runWatch(app: string | undefined, options: WatchOptions): Promise<void> {
  const client = controlClientFor(options);
  const style = terminalStyle(process.stdout);
  const printer = new WatchPrinter({
    write: (text) => process.stdout.write(text),
    style,
    json: options.json === true,
    now: Date.now,
  });
  // Reading the snapshot first reports an unknown app or an unreachable API before streaming.
  const snapshot = await readStatus(client, app);
  if (options.once) {
    if (options.json) {
      for (const { lastEvent: _, ...view } of snapshot) printer.status(view);
      return;
    }
    const lines = snapshot.flatMap(({ lastEvent, ...view }) =>
      watchBlock(style, view, lastEvent ?? undefined),
    );
    process.stdout.write(lines.map((line) => line + '\n').join(''));
    return;
  }
  if (!options.json) {
    for (const { lastEvent, ...view } of snapshot) {
      if (lastEvent && style.redraw) printer.event(lastEvent);
      printer.status(view);
    }
  }
  const thresholds = new Map(snapshot.map((entry) => [entry.app, entry.threshold]));
  const withThreshold = async (view: RolloutSummary): Promise<RolloutSummary> => {
    if (!thresholds.has(view.app)) thresholds.set(view.app, await readThreshold(client, view.app));
    const threshold = thresholds.get(view.app);
    return threshold === undefined ? view : { ...view, threshold };
  };
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const message of client.stream('/api/v1/events/stream', abort.signal)) {
      const data = parseMessage(message.data) as { app?: unknown } | undefined;
      if (data === undefined || (app !== undefined && data.app !== app)) continue;
      if (message.event === 'status') printer.status(await withThreshold(data as RolloutSummary));
      else if (message.event === 'event') printer.event(data as RolloutEventRecord);
    }
    if (!abort.signal.aborted) process.stderr.write('aviary: the control API ended the event stream\n');
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

/** Registers `aviary watch`. */
export function registerWatchCommand(program: Command): void {
  const command = program
    .command('watch')
    .description('follow rollouts live: phase, weight bar, checks against thresholds, last event')
    .argument('[app]', 'follow only this app')
    .option('--once', 'print the current state once and exit')
    .option('--json', 'print one JSON object per line: {"type":"status"|"event","data":...}');
  addApiOption(command)
    .addHelpText(
      'after',
      `
Examples:
  aviary watch                      # every app; Ctrl-C to stop
  aviary watch catalogdetail
  aviary watch --once
  aviary watch --json | jq -c 'select(.type == "event") | .data.message'
On a terminal the display redraws in place; piped, it appends one line per change.
Exits 0 on Ctrl-C or when the control API ends the stream.`,
    )
    .action(async (app: string | undefined, options: WatchOptions) => {
      await runWatch(app, options);
    });
}
