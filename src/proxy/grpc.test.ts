/**
 * The gRPC rules of the proxy as pure functions: `grpc-timeout` parsing, reading
 * `grpc-status`, the HTTP status each code counts as, and App Mesh's grpcRetryEvents in a
 * compiled `retryOn`.
 */
import { describe, expect, it } from 'vitest';
import { retryOnSchema } from '../config/field-schemas.js';
import {
  GRPC_STATUS,
  grpcStatusOf,
  grpcTimeoutMs,
  httpEquivalent,
  isGrpcRequest,
  takeStatusFields,
} from './grpc.js';
import { compileRetryPolicy } from './retry-policy.js';

describe('gRPC protocol rules', () => {
  it('reads grpc-timeout in every unit, and ignores malformed values', () => {
    expect(grpcTimeoutMs({ 'grpc-timeout': '2H' })).toBe(7_200_000);
    expect(grpcTimeoutMs({ 'grpc-timeout': '3M' })).toBe(180_000);
    expect(grpcTimeoutMs({ 'grpc-timeout': '5S' })).toBe(5000);
    expect(grpcTimeoutMs({ 'grpc-timeout': '250m' })).toBe(250);
    expect(grpcTimeoutMs({ 'grpc-timeout': '1500u' })).toBe(1.5);
    expect(grpcTimeoutMs({ 'grpc-timeout': '2000000n' })).toBe(2);
    for (const bad of ['', '5', 'S', '5s', '123456789S', '-1S', '1.5S']) {
      expect(grpcTimeoutMs({ 'grpc-timeout': bad }), bad).toBeUndefined();
    }
    expect(grpcTimeoutMs({})).toBeUndefined();
  });

  it('recognises gRPC requests by content type', () => {
    for (const type of ['application/grpc', 'application/grpc+proto', 'application/grpc;charset=utf-8'])
      expect(isGrpcRequest({ 'content-type': type }), type).toBe(true);
    for (const type of ['application/grpc-web', 'application/json', undefined])
      expect(isGrpcRequest({ 'content-type': type }), String(type)).toBe(false);
  });

  it('reads grpc-status, and counts each code as the HTTP status google.rpc.Code gives it', () => {
    expect(grpcStatusOf({ 'grpc-status': '14' })).toBe(GRPC_STATUS.UNAVAILABLE);
    expect(grpcStatusOf({ 'grpc-status': '99' })).toBe(GRPC_STATUS.UNKNOWN);
    expect(grpcStatusOf({ 'grpc-status': 'x' })).toBeUndefined();
    expect(grpcStatusOf({})).toBeUndefined();
    expect(httpEquivalent(GRPC_STATUS.OK)).toBe(200);
    expect(httpEquivalent(GRPC_STATUS.UNAVAILABLE)).toBe(503);
    expect(httpEquivalent(GRPC_STATUS.DEADLINE_EXCEEDED)).toBe(504);
    expect(httpEquivalent(GRPC_STATUS.INTERNAL)).toBe(500);
    expect(httpEquivalent(GRPC_STATUS.NOT_FOUND)).toBe(404);
    expect(httpEquivalent(GRPC_STATUS.RESOURCE_EXHAUSTED)).toBe(429);
  });

  it('moves the status fields of a trailers-only head into trailers', () => {
    const head: Record<string, string> = {
      'content-type': 'application/grpc',
      'grpc-status': '5',
      'grpc-message': 'gone',
    };
    expect(takeStatusFields(head)).toEqual({ 'grpc-status': '5', 'grpc-message': 'gone' });
    expect(head).toEqual({ 'content-type': 'application/grpc' });
  });

  it('moves the metadata of a trailers-only answer into trailers, and leaves the route’s headers in the head', () => {
    const upstream = {
      'content-type': 'application/grpc',
      date: 'Thu, 01 Jan 2026 00:00:00 GMT',
      'grpc-status': '8',
      'x-cost': 'error',
      'x-trace-bin': 'AAEC/w==',
    };
    const head: Record<string, string> = { ...upstream, 'x-served-by': 'aviary' };
    expect(takeStatusFields(head, upstream)).toEqual({
      'grpc-status': '8',
      'x-cost': 'error',
      'x-trace-bin': 'AAEC/w==',
    });
    expect(head).toEqual({
      'content-type': 'application/grpc',
      date: upstream.date,
      'x-served-by': 'aviary',
    });
    const answer: Record<string, string> = { 'content-type': 'application/grpc', 'x-cost': 'ok' };
    expect(takeStatusFields(answer, { ...answer })).toEqual({});
    expect(answer).toEqual({ 'content-type': 'application/grpc', 'x-cost': 'ok' });
  });

  it('retries exactly the gRPC statuses that retryOn names', () => {
    const events = retryOnSchema.parse(
      'unavailable, resource-exhausted, cancelled, deadline-exceeded, internal',
    );
    const policy = compileRetryPolicy(events);
    expect(policy.grpc).toBe(true);
    const retried = Object.values(GRPC_STATUS).filter((code) => policy.retriesGrpc(code));
    expect(retried.sort((a, b) => a - b)).toEqual([1, 4, 8, 13, 14]);
    expect(policy.retriesStatus(503)).toBe(false);
    const httpOnly = compileRetryPolicy(retryOnSchema.parse('5xx'));
    expect(httpOnly.grpc).toBe(false);
    expect(httpOnly.retriesGrpc(GRPC_STATUS.UNAVAILABLE)).toBe(false);
  });
});
