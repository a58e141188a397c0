/**
 * `aviary status [APP]`: a table of the rollouts `aviary up` drives, one row per app: phase,
 * canary weight, failed checks against the threshold, revision and the last event. `--json`
 * prints the API's views, each with its `threshold` and `lastEvent`.
 */
import type { Command } from 'commander';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import {
  addApiOption,
  ControlApiError,
  controlClientFor,
  type ApiOptions,
  type ControlClient,
} from './control-client.js';
import { lastEventByApp, STATUS_HEADERS, statusRow, type RolloutSummary } from './render-rollout.js';
import { renderTable } from './render-table.js';
import { terminalStyle } from './render-terminal.js';

interface StatusOptions extends ApiOptions {
  readonly json?: boolean;
}

/** A rollout with its newest event, as `aviary status --json` prints it. */
export type StatusEntry = RolloutSummary & { readonly lastEvent: RolloutEventRecord | null };

/**
 * The app's threshold of failed checks, from `GET /api/v1/rollouts/{app}/analysis` (served
 * with the dashboard); undefined when the server has no such route.
 */
export async function readThreshold(client: ControlClient, app: string): Promise<number | undefined> {
  try {
    const analysis = await client.get<{ threshold?: unknown }>(
      `/api/v1/rollouts/${encodeURIComponent(app)}/analysis`,
    );
    return typeof analysis.threshold === 'number' ? analysis.threshold : undefined;
  } catch (err) {
    if (err instanceof ControlApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Reads every rollout (or one), its threshold of failed checks, and the newest event of each. */
export async function readStatus(client: ControlClient, app?: string): Promise<StatusEntry[]> {
  const [views, events] = await Promise.all([
    app === undefined
      ? client.get<RolloutSummary[]>('/api/v1/rollouts')
      : client.get<RolloutSummary>(`/api/v1/rollouts/${encodeURIComponent(app)}`).then((view) => [view]),
    client.get<RolloutEventRecord[]>(
      app === undefined ? '/api/v1/events' : `/api/v1/rollouts/${encodeURIComponent(app)}/events`,
    ),
  ]);
  const last = lastEventByApp(events);
  const thresholds = await Promise.all(views.map((view) => readThreshold(client, view.app)));
  return views.map((view, i) => {
    const threshold = thresholds[i];
    return {
      ...view,
      ...(threshold !== undefined ? { threshold } : {}),
      lastEvent: last.get(view.app) ?? null,
    };
  });
}

/** Runs `aviary status`. */
export async function runStatus(app: string | undefined, options: StatusOptions): Promise<void> {
  const entries = await readStatus(controlClientFor(options), app);
  if (options.json) {
    process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
    return;
  }
  if (entries.length === 0) {
    process.stdout.write('no apps: add some to aviary.yaml\n');
    return;
  }
  const now = Date.now();
  const lines = renderTable(
    terminalStyle(process.stdout),
    STATUS_HEADERS,
    entries.map((entry) => statusRow(entry, entry.lastEvent ?? undefined, now)),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

/** Registers `aviary status`. */
export function registerStatusCommand(program: Command): void {
  const command = program
    .command('status')
    .description('show every rollout: phase, canary weight, failed checks, revision, last event')
    .argument('[app]', 'show only this app')
    .option('--json', 'print JSON (the API views, each with lastEvent) instead of a table');
  addApiOption(command)
    .addHelpText(
      'after',
      `
Examples:
  aviary status
  aviary status catalogdetail
  aviary status --json | jq '.[] | {app, phase: .status.phase, weight: .status.canaryWeight}'
  aviary status --api http://127.0.0.1:9081`,
    )
    .action(async (app: string | undefined, options: StatusOptions) => {
      await runStatus(app, options);
    });
}
