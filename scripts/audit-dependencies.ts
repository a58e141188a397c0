/**
 * `npm audit --omit=dev`, explained: runs the audit of the runtime dependencies and fails
 * only on an advisory that `.ci/audit-allowlist.json` does not list with a reason. Each
 * entry names the advisory (its GHSA id), the package and why it does not reach Aviary.
 * When the registry cannot answer audits (offline, or a mirror without the bulk advisory
 * endpoint), it says so and exits 0, or 1 with AVIARY_AUDIT_STRICT=1. See docs/security.md.
 *
 *   npx tsx scripts/audit-dependencies.ts            # CI: .ci/run
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** One explained advisory. */
export interface AllowedAdvisory {
  /** GHSA id, e.g. GHSA-xxxx-xxxx-xxxx. */
  readonly advisory: string;
  readonly package: string;
  /** Why it does not reach Aviary, or what is waited for. */
  readonly reason: string;
}

/** One advisory found by the audit. */
export interface Finding {
  readonly advisory: string;
  readonly package: string;
  readonly severity: string;
  readonly title: string;
}

/** What the audit's JSON says: findings, or that no audit could be made. */
export type AuditOutcome =
  | { readonly kind: 'report'; readonly findings: readonly Finding[] }
  | { readonly kind: 'unavailable'; readonly reason: string };

interface AuditVia {
  readonly name?: string;
  readonly title?: string;
  readonly url?: string;
  readonly severity?: string;
  readonly source?: number;
}

/** Reads `npm audit --json` output (report version 2, npm 7 and later). */
export function parseAudit(json: string): AuditOutcome {
  let report: {
    vulnerabilities?: Record<string, { via?: (string | AuditVia)[] }>;
    error?: { summary?: string; code?: string };
    message?: string;
    statusCode?: number;
  };
  try {
    report = JSON.parse(json) as typeof report;
  } catch {
    return { kind: 'unavailable', reason: 'npm audit printed no JSON report' };
  }
  if (report.vulnerabilities === undefined) {
    const reason = report.error?.summary || report.message || report.error?.code || 'no report';
    return { kind: 'unavailable', reason };
  }
  const findings = new Map<string, Finding>();
  for (const [name, entry] of Object.entries(report.vulnerabilities)) {
    for (const via of entry.via ?? []) {
      // A string names another vulnerable package: its own entry carries the advisory.
      if (typeof via === 'string') continue;
      const advisory = /GHSA-[\w-]+/.exec(via.url ?? '')?.[0] ?? `npm-${via.source ?? 'unknown'}`;
      const pkg = via.name ?? name;
      findings.set(`${advisory} ${pkg}`, {
        advisory,
        package: pkg,
        severity: via.severity ?? 'unknown',
        title: via.title ?? '',
      });
    }
  }
  return { kind: 'report', findings: [...findings.values()] };
}

/** The findings the allowlist does not explain. */
export function unexplained(findings: readonly Finding[], allowed: readonly AllowedAdvisory[]): Finding[] {
  return findings.filter(
    (f) =>
      !allowed.some((a) => a.advisory === f.advisory && a.package === f.package && a.reason.trim() !== ''),
  );
}

function runAudit(): Promise<string> {
  return new Promise((resolve) => {
    // Exit code 1 means "vulnerabilities found": the JSON on stdout says which.
    execFile('npm', ['audit', '--omit=dev', '--json'], { maxBuffer: 64 * 1024 * 1024 }, (_err, stdout) =>
      resolve(stdout),
    );
  });
}

async function main(): Promise<number> {
  const allowlistPath = fileURLToPath(new URL('../.ci/audit-allowlist.json', import.meta.url));
  const allowed = JSON.parse(await readFile(allowlistPath, 'utf8')) as AllowedAdvisory[];
  const outcome = parseAudit(await runAudit());
  if (outcome.kind === 'unavailable') {
    const strict = process.env.AVIARY_AUDIT_STRICT === '1';
    console.warn(
      `audit: npm audit could not run (${outcome.reason}); dependencies NOT audited${strict ? '' : ' (set AVIARY_AUDIT_STRICT=1 to fail on this)'}`,
    );
    return strict ? 1 : 0;
  }
  for (const f of outcome.findings) {
    const entry = allowed.find((a) => a.advisory === f.advisory && a.package === f.package);
    console.log(
      `audit: ${f.severity} ${f.package} ${f.advisory} ${f.title}${entry ? ` — explained: ${entry.reason}` : ''}`,
    );
  }
  const open = unexplained(outcome.findings, allowed);
  if (open.length > 0) {
    console.error(
      `audit: ${open.length} advisory(ies) not explained in .ci/audit-allowlist.json: upgrade, or add each with the reason it does not reach Aviary`,
    );
    return 1;
  }
  console.log(`audit: ${outcome.findings.length} advisory(ies), all explained; runtime dependencies audited`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
