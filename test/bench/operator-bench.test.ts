/**
 * The operator bench's counting: which API server requests it attributes to the operator,
 * how counts are diffed and split, and the per-Canary-per-step and ratio figures.
 */
import { describe, expect, it } from 'vitest';
import {
  apiserverOperatorWrites,
  countsBetween,
  operatorCounts,
  totals,
} from '../../bench/operator/request-counts.js';
import { perCanaryPerStep, ratio } from '../../bench/operator/report.js';

const apiserverText = [
  '# HELP apiserver_request_total [STABLE] Counter of apiserver requests.',
  '# TYPE apiserver_request_total counter',
  'apiserver_request_total{code="200",component="apiserver",dry_run="",group="gateway.networking.k8s.io",resource="httproutes",scope="resource",subresource="",verb="APPLY",version="v1"} 40',
  'apiserver_request_total{code="201",component="apiserver",dry_run="",group="gateway.networking.k8s.io",resource="httproutes",scope="resource",subresource="",verb="APPLY",version="v1"} 2',
  'apiserver_request_total{code="200",component="apiserver",dry_run="",group="gateway.networking.k8s.io",resource="httproutes",scope="resource",subresource="status",verb="PATCH",version="v1"} 99',
  'apiserver_request_total{code="200",component="apiserver",dry_run="",group="aviary.dev",resource="canaries",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 7',
  'apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="PATCH",version="v1"} 200',
  'apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="POST",version="v1"} 200',
  'apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="PUT",version="v1"} 30',
  'apiserver_request_total{code="200",component="apiserver",dry_run="",group="aviary.dev",resource="canaries",scope="namespace",subresource="",verb="LIST",version="v1alpha1"} 5',
  'apiserver_request_duration_seconds_count{verb="APPLY",resource="httproutes"} 1000',
].join('\n');

describe('operator bench counting', () => {
  it("takes from the API server only the operator's writes: APPLY anywhere and PATCH canaries/status, over all codes", () => {
    expect(apiserverOperatorWrites(apiserverText)).toEqual([
      { verb: 'apply', resource: 'httproutes', count: 42 },
      { verb: 'patch', resource: 'canaries/status', count: 7 },
    ]);
  });

  it("reads the operator's own counter and splits writes from reads", () => {
    const counts = operatorCounts(
      [
        '# TYPE aviary_kube_api_requests_total counter',
        'aviary_kube_api_requests_total{verb="apply",resource="httproutes"} 12',
        'aviary_kube_api_requests_total{verb="get",resource="httproutes"} 30',
        'aviary_kube_api_requests_total{verb="patch",resource="canaries/status"} 6',
        'aviary_kube_api_requests_total{verb="list",resource="deployments"} 1',
      ].join('\n'),
    );
    expect(counts).toContainEqual({ verb: 'patch', resource: 'canaries/status', count: 6 });
    expect(totals(counts)).toEqual({ writes: 18, reads: 31 });
  });

  it('diffs two readings per verb and resource, counting one that appeared in between from zero', () => {
    const before = [{ verb: 'apply', resource: 'httproutes', count: 10 }];
    const after = [
      { verb: 'apply', resource: 'httproutes', count: 25 },
      { verb: 'apply', resource: 'events', count: 4 },
      { verb: 'list', resource: 'canaries', count: 0 },
    ];
    expect(countsBetween(before, after)).toEqual([
      { verb: 'apply', resource: 'events', count: 4 },
      { verb: 'apply', resource: 'httproutes', count: 15 },
    ]);
  });

  it('gives per-Canary-per-step figures and ratios, and no figure where there is nothing to divide by', () => {
    expect(perCanaryPerStep(1200, 200, 6)).toBe(1);
    expect(perCanaryPerStep(10, 0, 6)).toBeNaN();
    expect(perCanaryPerStep(10, 2, 0)).toBeNaN();
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(Number.NaN, 2)).toBeNull();
  });
});
