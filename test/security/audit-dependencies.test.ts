/**
 * The dependency audit's reading of `npm audit --json` (scripts/audit-dependencies.ts): an
 * advisory fails CI unless .ci/audit-allowlist.json explains it; an audit that could not run
 * is told apart from a clean one. Reports shaped as npm 11 prints them.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAudit, unexplained, type AllowedAdvisory } from '../../scripts/audit-dependencies.js';

const REPORT = JSON.stringify({
  auditReportVersion: 2,
  vulnerabilities: {
    'some-lib': {
      name: 'some-lib',
      severity: 'high',
      via: [
        {
          source: 1100000,
          name: 'some-lib',
          title: 'Prototype pollution in some-lib',
          url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc',
          severity: 'high',
          range: '<1.2.3',
        },
      ],
      effects: ['wrapper'],
    },
    wrapper: { name: 'wrapper', severity: 'high', via: ['some-lib'], effects: [] },
  },
  metadata: { vulnerabilities: { total: 2 } },
});

describe('parseAudit', () => {
  it('lists each advisory once, by GHSA id and package, not the packages that only depend on it', () => {
    expect(parseAudit(REPORT)).toEqual({
      kind: 'report',
      findings: [
        {
          advisory: 'GHSA-aaaa-bbbb-cccc',
          package: 'some-lib',
          severity: 'high',
          title: 'Prototype pollution in some-lib',
        },
      ],
    });
  });

  it('a clean report has no findings', () => {
    expect(parseAudit(JSON.stringify({ auditReportVersion: 2, vulnerabilities: {} }))).toEqual({
      kind: 'report',
      findings: [],
    });
  });

  it('an audit that could not run is unavailable, not clean', () => {
    const refused = JSON.stringify({
      message: '405 Method Not Allowed - POST https://registry/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
    });
    expect(parseAudit(refused)).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringContaining('405'),
    });
    expect(parseAudit('')).toMatchObject({ kind: 'unavailable' });
    expect(
      parseAudit(JSON.stringify({ error: { code: 'ENOTFOUND', summary: 'getaddrinfo ENOTFOUND' } })),
    ).toMatchObject({
      kind: 'unavailable',
      reason: 'getaddrinfo ENOTFOUND',
    });
  });
});

describe('unexplained', () => {
  const outcome = parseAudit(REPORT);
  const findings = outcome.kind === 'report' ? outcome.findings : [];

  it('keeps an advisory the allowlist does not name, or names without a reason', () => {
    expect(unexplained(findings, [])).toHaveLength(1);
    const noReason: AllowedAdvisory[] = [
      { advisory: 'GHSA-aaaa-bbbb-cccc', package: 'some-lib', reason: ' ' },
    ];
    expect(unexplained(findings, noReason)).toHaveLength(1);
    const otherPackage: AllowedAdvisory[] = [
      { advisory: 'GHSA-aaaa-bbbb-cccc', package: 'other', reason: 'x' },
    ];
    expect(unexplained(findings, otherPackage)).toHaveLength(1);
  });

  it('drops an advisory listed with its package and a reason', () => {
    const allowed: AllowedAdvisory[] = [
      { advisory: 'GHSA-aaaa-bbbb-cccc', package: 'some-lib', reason: 'only reached by a dev tool' },
    ];
    expect(unexplained(findings, allowed)).toEqual([]);
  });

  it('the allowlist in the repository gives every entry a reason', async () => {
    const list = JSON.parse(
      await readFile(new URL('../../.ci/audit-allowlist.json', import.meta.url), 'utf8'),
    ) as AllowedAdvisory[];
    for (const entry of list) {
      expect(entry.advisory).toMatch(/^GHSA-/);
      expect(entry.reason.trim().length).toBeGreaterThan(10);
    }
  });
});
