// The figures of the sequential judge's evidence, as text: the counts per version, each test's
// current e-value and anytime p-value against its share of α, each harm bound (the canary's
// excess) against `analysis.judge.maxHarm` with the margin left, and what the bounds allow next
// ("gathering evidence: ~N more canary requests"). The evidence is the JSON of
// src/analysis/judge-decision.ts (`JudgeEvidence`, with the check's `decision`). One module for
// both readers: the dashboard (judge-evidence.js, which lays the figures out in the DOM) and the
// CLI (src/cli/render-judge.ts, which lays them out in the terminal), so both say the same thing.
// Plain JS with no DOM and no Node API, so it runs as-is in the browser and in Node; its types
// are in judge-figures.d.ts.

/** Whether `value` is a plain object (not null, not an array). */
export function isRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` has the shape of a judge's evidence (counts, tests, harm bounds). */
export function isJudgeEvidence(value) {
  return (
    isRecord(value) &&
    typeof value.summary === 'string' &&
    isRecord(value.alpha) &&
    isRecord(value.errors) &&
    isRecord(value.harm) &&
    Array.isArray(value.latency)
  );
}

/**
 * The judge check in check results (`{metrics}`) or in an event's evidence: `{detail,
 * evidence}`, where `detail` is the check's line (the judge's summary, or why it holds).
 * Undefined when there is none.
 */
export function judgeCheckOf(results) {
  if (isJudgeEvidence(results)) return { detail: undefined, evidence: results };
  if (!isRecord(results) || !Array.isArray(results.metrics)) return undefined;
  const judge = results.metrics.find((m) => isRecord(m) && isJudgeEvidence(m.evidence));
  if (judge === undefined) return undefined;
  return { detail: typeof judge.detail === 'string' ? judge.detail : undefined, evidence: judge.evidence };
}

/** A finite number, or null (JSON turns ±Infinity and NaN into null). */
export function finite(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Three significant digits, scientific notation outside 0.0001 … 99,999: 0.19, 0.00063, 6580, 3.6e+5. */
export function formatNumber(value) {
  if (value === null || value === undefined) return '–';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-4) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}

/** An e-value from its logarithm; "–" when unknown. */
export function formatEValue(logEValue) {
  return logEValue === null ? '–' : formatNumber(Math.exp(logEValue));
}

/** A rate as a percentage with two decimals, "0.11%"; "–" when unknown. */
export function formatPercent(rate) {
  return rate === null ? '–' : `${(rate * 100).toFixed(2)}%`;
}

function formatPercentagePoints(rate) {
  return `${(rate * 100).toFixed(2)} pp`;
}

function formatMilliseconds(value) {
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ms`;
}

/** `p50`, `p99.9`: a quantile's name. */
export function quantileName(q) {
  return `p${Math.round(q * 10000) / 100}`;
}

/** Requests, errors and error rate of each version, primary first. */
export function countRows(evidence) {
  return ['primary', 'canary'].map((version) => {
    const v = evidence.errors[version];
    return { version, requests: v.requests, errors: v.errors, rate: formatPercent(finite(v.rate)) };
  });
}

/**
 * A harm bound against its tolerance: the larger of the absolute and the relative allowance
 * (the relative one on the primary's lower bound), as src/analysis/harm-bounds.ts compares them.
 */
function harmRow(excess, primaryLower, absolute, relative, unit) {
  const tolerance = Math.max(absolute, relative * (primaryLower ?? 0));
  if (excess === null)
    return { bound: 'not yet bounded', allowed: unit(tolerance), margin: '–', within: null };
  const within = excess <= tolerance;
  return {
    bound: `< ${unit(Math.max(excess, 0))}`,
    allowed: unit(tolerance),
    margin: `${within ? 'within' : 'over'} by ${unit(Math.abs(tolerance - Math.max(excess, 0)))}`,
    within,
  };
}

/** The error-rate bound against maxHarm. */
export function errorHarmRow(evidence) {
  const { errors, maxHarm } = evidence.harm;
  return harmRow(
    finite(errors.excessUpper),
    finite(errors.primaryLower),
    maxHarm.errorRate.absolute,
    maxHarm.errorRate.relative,
    formatPercentagePoints,
  );
}

/** The latency bound at each quantile against maxHarm. */
export function latencyHarmRows(evidence) {
  const { latency } = evidence.harm.maxHarm;
  return evidence.harm.latency.map((l) => ({
    quantile: l.quantile,
    ...harmRow(
      finite(l.excessUpperMs),
      finite(l.primaryLowerMs),
      latency.absoluteMs,
      latency.relative,
      formatMilliseconds,
    ),
  }));
}

function testVerdict(regression, logEValue) {
  if (regression) return 'regression';
  // Leaning shows only where the e-value, as displayed, is above 1.
  return logEValue !== null && Number(Math.exp(logEValue).toPrecision(3)) > 1 ? 'leans' : '';
}

function testFigure(name, logEValue, pValue, alpha, regression, harm) {
  return {
    name,
    eValue: formatEValue(logEValue),
    rejectsAt: `≥ ${formatNumber(1 / alpha)}`,
    pValue: formatNumber(pValue),
    alpha: formatNumber(alpha),
    verdict: testVerdict(regression, logEValue),
    harm,
  };
}

/**
 * One entry per test: the error test, each latency quantile's and the tail test, with the
 * current e-value, the e-value it rejects at (1/α share), the anytime p-value, the α share,
 * the verdict, and the harm bound that goes with it (none for the tail test).
 */
export function testFigures(evidence) {
  const { errors } = evidence;
  const latencyHarm = latencyHarmRows(evidence);
  const figures = [
    testFigure(
      'errors',
      finite(errors.logEValue),
      finite(errors.pValue),
      errors.alpha,
      errors.regression,
      errorHarmRow(evidence),
    ),
  ];
  for (const l of evidence.latency) {
    figures.push(
      testFigure(
        quantileName(l.quantile),
        finite(l.exceedance.logEValue),
        finite(l.exceedance.pValue),
        l.alpha,
        l.regression,
        latencyHarm.find((h) => h.quantile === l.quantile),
      ),
    );
  }
  const { tail } = evidence;
  if (isRecord(tail)) {
    figures.push(
      testFigure('tail', finite(tail.logEValue), finite(tail.pValue), tail.alpha, tail.regression, undefined),
    );
  }
  return figures;
}

/** The judge's decision, or (in evidence without one) whether any test rejected. */
export function isRegression(evidence) {
  if (evidence.decision !== undefined) return evidence.decision === 'regression';
  return (
    evidence.errors.regression ||
    evidence.latency.some((l) => l.regression) ||
    (isRecord(evidence.tail) && evidence.tail.regression === true)
  );
}

/** What the harm bounds allow next, e.g. "gathering evidence: ~1200 more canary requests before promotion (…)". */
export function nextMoveLine(evidence) {
  const { harm } = evidence;
  if (isRegression(evidence)) return 'regression: the canary is rolled back';
  if (evidence.canaryRequests < evidence.minCanaryRequests) {
    return `gathering evidence: ${evidence.canaryRequests} of ${evidence.minCanaryRequests} canary requests before any step`;
  }
  if (harm.withinMaxHarm) return 'within maxHarm: steps and promotion allowed';
  const steps = `steps allowed up to ${Math.floor(finite(harm.allowedWeight) ?? 0)}%`;
  const more = finite(harm.moreCanaryRequestsToPromote);
  if (evidence.errors.canary.requests === 0 || evidence.errors.primary.requests === 0) {
    return `gathering evidence: no requests to compare yet (${steps})`;
  }
  if (more === null) return `${steps}; promotion not yet: the excess seen so far is beyond maxHarm`;
  return `gathering evidence: ~${more} more canary requests before promotion (${steps})`;
}
