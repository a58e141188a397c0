/**
 * Every error code Aviary raises, in one place: the HTTP status the APIs answer with, the
 * exit code of the `aviary` command, and what the user should do. `AviaryError` only takes a
 * code listed here, so a new code cannot ship without its status, exit code and advice;
 * docs/errors.md is generated from this table (`npm run docs:errors`).
 */

/** Documented exit codes of the `aviary` command (README, `aviary --help`). */
export const EXIT = {
  ok: 0,
  /** Runtime failure (a service could not start, a call failed). */
  failure: 1,
  /** Bad command line (also AVIARY_USAGE, e.g. a malformed --api URL), or a port in use at start. */
  usage: 2,
  /** A configuration file or document was rejected. */
  invalidConfig: 3,
  /** The control or admin API refused the call: 401 token, 404 unknown app, 409 conflict. */
  refused: 4,
  /** A rollout ended in failure (rolled back) where the command waited for it. */
  rolledBack: 5,
} as const;

/** An exit code of the `aviary` command. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The HTTP statuses Aviary's APIs answer errors with. */
export type HttpStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504;

/** One row of the catalogue. */
export interface ErrorEntry {
  /**
   * Status of a control API answer (release and dashboard routes included) that ends with
   * this error. Codes with nothing more specific answer 400, as every API did before this
   * table; codes only the CLI raises carry the status of the answer they stand for.
   */
  readonly httpStatus: HttpStatus;
  /** Status of the router's admin API, where it differs from `httpStatus`. */
  readonly adminHttpStatus?: HttpStatus;
  /** Exit code of the `aviary` command that fails with this error; never 0. */
  readonly exitCode: Exclude<ExitCode, 0>;
  /** What to do about it, one sentence. */
  readonly action: string;
}

/** The catalogue, keyed by code. */
export const ERROR_CATALOGUE = {
  AVIARY_ALERT_PROVIDER_INVALID: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: "Set the alert provider's address to its http(s) webhook URL.",
  },
  AVIARY_ALERT_PROVIDER_UNKNOWN: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Set alertProviders[].type to one of the types the message lists.',
  },
  AVIARY_API_ERROR: {
    httpStatus: 502,
    exitCode: EXIT.failure,
    action: 'Read the status and message the control API gave; check that --api points at `aviary up`.',
  },
  AVIARY_API_TIMEOUT: {
    httpStatus: 504,
    exitCode: EXIT.failure,
    action: 'Check that `aviary up` is running and not overloaded at --api (or AVIARY_API), then retry.',
  },
  AVIARY_API_UNREACHABLE: {
    httpStatus: 502,
    exitCode: EXIT.failure,
    action: 'Start `aviary up`, or point --api (or AVIARY_API) at its control API.',
  },
  AVIARY_ARTIFACT_INDEX_CORRUPT: {
    httpStatus: 500,
    exitCode: EXIT.failure,
    action:
      'The artifact index under <state-dir>/artifacts is not what Aviary writes: restore it, or move it aside and publish the tags again.',
  },
  AVIARY_ARTIFACT_INVALID_INPUT: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Fix the app, tag, commit or directory the message names, then publish again.',
  },
  AVIARY_ARTIFACT_TAG_IMMUTABLE: {
    httpStatus: 409,
    exitCode: EXIT.failure,
    action: 'Tags are immutable: push a new tag for the new commit instead of moving the old one.',
  },
  AVIARY_ARTIFACT_UNSUPPORTED_FILE: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Keep only regular files, directories and symlinks in the build output the message names.',
  },
  AVIARY_BAD_REQUEST: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Fix the request parameter or body field the message names and send it again.',
  },
  AVIARY_BODY_TOO_LARGE: {
    httpStatus: 413,
    exitCode: EXIT.failure,
    action: 'Send a smaller request body; the message gives the limit in bytes.',
  },
  AVIARY_BUILD_INVALID_OPTION: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Fix the build option the message names (pipelines.sources[].build in aviary.yaml).',
  },
  AVIARY_CONFIG_INVALID: {
    httpStatus: 422,
    // Each API keeps the status its clients already get: 422 on the control API, 400 on the admin API.
    adminHttpStatus: 400,
    exitCode: EXIT.invalidConfig,
    action: 'Fix each field at the path the error lists; `aviary validate` checks a file offline.',
  },
  AVIARY_CONFLICT: {
    httpStatus: 409,
    exitCode: EXIT.refused,
    action: 'The rollout refused the call in its current state (e.g. suspended); change it, then retry.',
  },
  AVIARY_CROSS_ORIGIN: {
    httpStatus: 403,
    exitCode: EXIT.failure,
    action:
      'Send the change from the dashboard of this API or from the CLI: a browser page of another origin cannot drive the control or admin API.',
  },
  AVIARY_DASHBOARD_MISSING: {
    httpStatus: 500,
    exitCode: EXIT.failure,
    action: 'Run Aviary from a checkout or package that includes src/web/static.',
  },
  AVIARY_FLOW_CANARY_REFUSED: {
    httpStatus: 409,
    exitCode: EXIT.failure,
    action:
      'Give onPublish: canary a build app in aviary.yaml with a process workload and no release file; publish only, or name the tag in the release file.',
  },
  AVIARY_FLOW_INVALID_OPTION: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Fix the pipeline option or file the message names.',
  },
  AVIARY_FLOW_REF_MISMATCH: {
    httpStatus: 409,
    exitCode: EXIT.failure,
    action: 'The ref no longer points at the pushed commit: push again, or let the newer delivery run.',
  },
  AVIARY_FLOW_RELEASE_FILE_MISSING: {
    httpStatus: 404,
    exitCode: EXIT.failure,
    action: 'Commit the release file at the path pipelines.sources[].release.path names, or fix that path.',
  },
  AVIARY_FLOW_STATUS_FAILED: {
    httpStatus: 502,
    exitCode: EXIT.failure,
    action: 'Check the forge API URL and token of pipelines.sources[].status; the run itself is unaffected.',
  },
  AVIARY_FLOW_UNKNOWN_SOURCE: {
    httpStatus: 404,
    exitCode: EXIT.failure,
    action: 'Name a source configured under pipelines.sources in aviary.yaml.',
  },
  AVIARY_GATE_ACTOR_MISSING: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Name who opens or closes the gate (the control API takes it from the X-Aviary-User header).',
  },
  AVIARY_GENERATION_CONFLICT: {
    httpStatus: 409,
    exitCode: EXIT.refused,
    action: 'The configuration changed meanwhile: read it again, resend with the new If-Match generation.',
  },
  AVIARY_GIT_COMMAND_FAILED: {
    httpStatus: 502,
    exitCode: EXIT.failure,
    action:
      "Read the message git gave in the error; check the source's url and that the repository is reachable.",
  },
  AVIARY_GIT_INVALID_ARGUMENT: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Use a ref under refs/heads/ or refs/tags/, a full commit id and a path inside the repository.',
  },
  AVIARY_GIT_REF_NOT_FOUND: {
    httpStatus: 404,
    exitCode: EXIT.failure,
    action: 'Push the branch or tag the message names, or fix the configured branch.',
  },
  AVIARY_HOST_REFUSED: {
    httpStatus: 403,
    exitCode: EXIT.failure,
    action:
      'Address the API as 127.0.0.1, [::1] or localhost: on loopback it refuses other host names, which only a DNS-rebinding page would send.',
  },
  AVIARY_HTTP_OPTION_INVALID: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Give the outbound call the message names a timeout > 0 ms and a whole number of retries >= 0.',
  },
  AVIARY_INTERNAL: {
    httpStatus: 500,
    exitCode: EXIT.failure,
    action: "An unexpected failure: report it as a bug with the message and the controller's log.",
  },
  AVIARY_JUDGE_WINDOW_INVALID: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'A bug in what feeds the judge (it takes counter increments): report it with the message.',
  },
  AVIARY_KUBE_API: {
    httpStatus: 502,
    exitCode: EXIT.failure,
    action:
      "The Kubernetes API server refused or failed the call the message names: check the object, the operator's RBAC (deploy/kubernetes/) and the API server.",
  },
  AVIARY_KUBE_CONFIG: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action:
      'Point --kubeconfig or $KUBECONFIG at a kubeconfig with a current context, or run the operator in a pod.',
  },
  AVIARY_LISTENER_UNKNOWN: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Name a listener that the router configuration defines and that has started.',
  },
  AVIARY_LISTEN_FAILED: {
    httpStatus: 500,
    exitCode: EXIT.usage,
    action: 'Choose a port and host this machine lets Aviary listen on (ports below 1024 need privileges).',
  },
  AVIARY_METHOD: {
    httpStatus: 405,
    exitCode: EXIT.failure,
    action: 'Call the endpoint with the HTTP method the message names.',
  },
  AVIARY_METRIC_MULTIPLE_SERIES: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Aggregate the query (e.g. sum(...)) so that it returns exactly one series.',
  },
  AVIARY_METRIC_NAN: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Check that the version gets traffic in the interval, or guard the division in the query.',
  },
  AVIARY_METRIC_NO_VALUES: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: "Check the query's labels and interval against what the provider stores for this version.",
  },
  AVIARY_METRIC_PROVIDER_UNKNOWN: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: "Set the metric template's provider type to one of the types the message lists.",
  },
  AVIARY_METRIC_QUERY_INVALID: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Fix the query the provider rejected; try the rendered query in the provider itself first.',
  },
  AVIARY_METRIC_TEMPLATE_INVALID: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action:
      "Fix the template expression the message names, or add the variable to the metric's templateVariables.",
  },
  AVIARY_NOT_FOUND: {
    httpStatus: 404,
    exitCode: EXIT.refused,
    action: 'Check the app or endpoint name against those the message lists (`aviary status` shows apps).',
  },
  AVIARY_OVERLOADED: {
    httpStatus: 503,
    exitCode: EXIT.failure,
    action:
      'Redeliver after the Retry-After seconds; if a forge meets the bound in normal use, raise pipelines.webhooks.maxInFlight.',
  },
  AVIARY_PORT_IN_USE: {
    httpStatus: 500,
    exitCode: EXIT.usage,
    action: 'Set the named setting to a free port, or stop what listens there (`ss -ltnp` shows it).',
  },
  AVIARY_PROVIDER_ERROR: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Read the provider answer in the message; the query must yield one instant vector or scalar.',
  },
  AVIARY_PROVIDER_UNREACHABLE: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: "Check the metric provider's address and that it is up; the check fails until it answers.",
  },
  AVIARY_RATE_LIMITED: {
    httpStatus: 429,
    exitCode: EXIT.failure,
    action:
      'Redeliver after the Retry-After seconds; if a forge meets the limit in normal use, raise pipelines.webhooks.rateLimit.',
  },
  AVIARY_RELEASE_CONFLICT: {
    httpStatus: 409,
    exitCode: EXIT.failure,
    action: 'Let the canary rollout finish or abort it (`aviary abort APP`), then apply the release again.',
  },
  AVIARY_RELEASE_NOT_READY: {
    httpStatus: 422,
    exitCode: EXIT.failure,
    action: 'Fix why the named entry is not ready (see its last error) and apply again; the split is kept.',
  },
  AVIARY_ROLLED_BACK: {
    httpStatus: 409,
    exitCode: EXIT.rolledBack,
    action:
      'The new revision failed its analysis or was aborted: read why with `aviary get events APP`, fix it, deploy again.',
  },
  AVIARY_ROLLOUT_SUSPENDED: {
    httpStatus: 409,
    exitCode: EXIT.failure,
    action: 'Set canary.suspend: false for the app in aviary.yaml before sending it commands.',
  },
  AVIARY_ROLLOUT_UNKNOWN_REVISION: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Saved state names a revision with no kept spec: report it as a bug with the state directory.',
  },
  AVIARY_ROUTER_CONFIG: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Add the router settings the message names.',
  },
  AVIARY_ROUTER_UNAVAILABLE: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: "Check that the router's admin API is up at its configured address and accepts the token.",
  },
  AVIARY_ROUTER_UNKNOWN: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Set the router kind to one of the kinds the message lists.',
  },
  AVIARY_ROUTE_DIVERGED: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'The next reconcile or setRoutes rewrites every instance; if it recurs, check those named.',
  },
  AVIARY_ROUTE_NO_ENDPOINTS: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Wait until the version has a ready endpoint, or give it weight 0.',
  },
  AVIARY_ROUTE_UNKNOWN_APP: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Reconcile the app on the router before setting or reading its routes.',
  },
  AVIARY_RUN_INVALID_INPUT: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Fix the run field the message names.',
  },
  AVIARY_RUN_NOT_FOUND: {
    httpStatus: 404,
    exitCode: EXIT.failure,
    action: 'List the runs (aviary pipelines list); older runs are pruned after 500.',
  },
  AVIARY_RUN_STATE_CORRUPT: {
    httpStatus: 500,
    exitCode: EXIT.failure,
    action: 'The run file the message names is not what Aviary writes: move it aside and restart.',
  },
  AVIARY_RUN_WRONG_STATE: {
    httpStatus: 409,
    exitCode: EXIT.failure,
    action: 'The run has already finished: rerun it instead.',
  },
  AVIARY_STATE_CORRUPT: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Fix or remove the named state file, then restart (a removed gate file closes every gate).',
  },
  AVIARY_STATE_INVALID_NAME: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Name the app with a lowercase RFC 1123 label: a-z, 0-9 and "-", at most 63 characters.',
  },
  AVIARY_STATE_NOT_OWNED: {
    httpStatus: 500,
    exitCode: EXIT.failure,
    action:
      'Run Aviary as the user who owns the state directory, or point stateDir at a directory of your own: it holds the token and every rollout.',
  },
  AVIARY_TARGET_CLOSED: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'The process target was shut down; start the controller again rather than reusing it.',
  },
  AVIARY_TARGET_INVALID_SPEC: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Fix the process field the message names (app name, replicas or command).',
  },
  AVIARY_TARGET_STATE_CORRUPT: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Stop processes with AVIARY_INSTANCE in their environment, delete the named file, restart.',
  },
  AVIARY_TARGET_STATE_DIR_IN_USE: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Stop the controller whose pid the message gives, or use another stateDir.',
  },
  AVIARY_TARGET_UNKNOWN_KIND: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'Set the target kind to one of the kinds the message lists.',
  },
  AVIARY_TARGET_VERSION_NOT_FOUND: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action: 'The version is not running on the target: check app and role, and start it before acting on it.',
  },
  AVIARY_TRAFFIC_SOURCE_MISSING: {
    httpStatus: 400,
    exitCode: EXIT.failure,
    action:
      "Start the operator with --prometheus URL and --data-plane: the built-in checks, the judge and the dashboard's traffic read the data plane's metrics there.",
  },
  AVIARY_UNAUTHORIZED: {
    httpStatus: 401,
    exitCode: EXIT.refused,
    action: 'Send the token of `aviary up`: AVIARY_TOKEN or --token-file (default .aviary/token).',
  },
  AVIARY_USAGE: {
    httpStatus: 400,
    exitCode: EXIT.usage,
    action: 'Fix the command line as the message says; `aviary <command> --help` lists the options.',
  },
  AVIARY_WAIT_TIMEOUT: {
    httpStatus: 504,
    exitCode: EXIT.failure,
    action: 'The rollout is still going on: wait longer (--timeout), or follow it with `aviary watch APP`.',
  },
} as const satisfies Record<`AVIARY_${string}`, ErrorEntry>;

/** A stable error code; TypeScript rejects any string not in {@link ERROR_CATALOGUE}. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Which API answers: the control API of `aviary up`, or the router's admin API. */
export type HttpApi = 'control' | 'admin';

/** True when `value` is a catalogued code, e.g. one read from an API answer. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

function entryOf(code: ErrorCode): ErrorEntry {
  return ERROR_CATALOGUE[code];
}

/** HTTP status an API answers with when a request ends with `code`; `api` defaults to control. */
export function httpStatusOf(code: ErrorCode, api: HttpApi = 'control'): HttpStatus {
  const entry = entryOf(code);
  return (api === 'admin' ? entry.adminHttpStatus : undefined) ?? entry.httpStatus;
}

/** Exit code of the `aviary` command when it fails with `code`. */
export function exitCodeOf(code: ErrorCode): Exclude<ExitCode, 0> {
  return entryOf(code).exitCode;
}

/** What the user should do about `code`, one sentence. */
export function actionOf(code: ErrorCode): string {
  return entryOf(code).action;
}
