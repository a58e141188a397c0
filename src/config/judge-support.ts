/**
 * Which analysis settings the sequential judge cannot judge validly, and why. One predicate
 * serves both places that need it: the config check that refuses an explicit `analysis.judge`
 * in those settings (app-schema.ts), and the judge's default, which must quietly not apply
 * there. See docs/adr/0016-judge-under-sticky-and-ab-routing.md.
 */

/** The parts of an app's `analysis` block the judge's validity depends on. */
export interface JudgeRoutingSettings {
  /** A/B rules (`analysis.match`): matched requests go to the canary, the rest to the primary. */
  readonly match?: readonly unknown[] | undefined;
  /** Cookie stickiness (`analysis.sessionAffinity`): a client keeps the version it first got. */
  readonly sessionAffinity?: unknown;
}

/** An analysis field that makes the judge invalid, and the reason, for a config error. */
export interface JudgeUnsupported {
  /** The offending field of `analysis`. */
  readonly field: 'match' | 'sessionAffinity';
  readonly reason: string;
}

/**
 * The judge's tests condition on how many requests each version served and assume each
 * request was routed independently of its outcome (docs/adr/0002-sequential-judge.md). Both
 * settings below route by client, not by request: the canary then serves a different set of
 * users, and users differ.
 */
export function judgeUnsupported(analysis: JudgeRoutingSettings): JudgeUnsupported | undefined {
  if (analysis.match !== undefined && analysis.match.length > 0) {
    return {
      field: 'match',
      reason:
        'A/B routing (analysis.match) sends only matching requests to the canary and the rest to the primary, so the judge would compare different users, not versions, and could roll back a healthy canary or pass a bad one; use threshold metrics for A/B, or a weighted canary for the judge',
    };
  }
  if (analysis.sessionAffinity !== undefined) {
    return {
      field: 'sessionAffinity',
      reason:
        "session affinity (analysis.sessionAffinity) keeps each client on one version, so a client's requests are not routed independently of their outcomes and users who fail more than others make a healthy canary look worse (10% false rollbacks measured at alpha 1%); remove sessionAffinity to use the judge, or use threshold metrics",
    };
  }
  return undefined;
}

/**
 * Why the judge cannot judge an analysis with these settings, or undefined when it can.
 * When the judge is on only by default, it must not apply where this returns a reason.
 */
export function judgeUnsupportedReason(analysis: JudgeRoutingSettings): string | undefined {
  return judgeUnsupported(analysis)?.reason;
}
