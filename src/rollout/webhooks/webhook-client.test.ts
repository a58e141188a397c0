import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { webhookSpecIssues } from '../../config/app-webhook.js';
import { WebhookClient } from './webhook-client.js';
import { MESSAGE_LIMIT_CHARS } from '../../http/post-json.js';
import { runWebhookStage } from './webhook-verdict.js';
import type { WebhookContext, WebhookSpec } from './webhook-types.js';

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly raw: string;
  readonly body: unknown;
}

type Handler = (request: IncomingMessage, response: ServerResponse, index: number) => void;

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A loopback receiver on port 0 recording each POST; `handler` answers (or never does). */
async function receiver(handler: Handler): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: request.headers, raw, body: JSON.parse(raw) as unknown });
      handler(request, response, received.length - 1);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

function answer(status: number, body = ''): Handler {
  return (_request, response) => response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}

const neverAnswers: Handler = () => {};

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const context: WebhookContext = {
  name: 'podinfo',
  namespace: 'test',
  phase: 'Progressing',
  checksum: 'abc123',
};
const client = new WebhookClient({ backoffMs: () => 0, now: () => 1_700_000_000_123 });

function hook(url: string, extra: Partial<WebhookSpec> = {}): WebhookSpec {
  return { type: 'rollout', name: 'load-test', url, ...extra };
}

describe('WebhookClient status handling', () => {
  it.each([200, 201, 202])('passes on %i', async (status) => {
    const { url } = await receiver(answer(status, 'fine'));
    const result = await client.call(hook(url), context);
    expect(result).toMatchObject({ ok: true, status, attempts: 1 });
  });

  it.each([203, 403, 500])('fails on %i with the response body as the message', async (status) => {
    const { url } = await receiver(answer(status, `load test failed with ${status}`));
    const result = await client.call(hook(url), context);
    expect(result).toMatchObject({ ok: false, status, message: `load test failed with ${status}` });
  });

  it('names the status when a failing body is empty', async () => {
    const { url } = await receiver(answer(500));
    const result = await client.call(hook(url), context);
    expect(result.message).toBe(`webhook load-test POST ${url} answered 500 with an empty body`);
  });

  it('truncates a long failure body', async () => {
    const { url } = await receiver(answer(500, 'x'.repeat(20_000)));
    const result = await client.call(hook(url), context);
    expect(result.ok).toBe(false);
    expect(result.message.startsWith('x'.repeat(MESSAGE_LIMIT_CHARS))).toBe(true);
    expect(result.message.endsWith('(truncated)')).toBe(true);
    expect(result.message.length).toBeLessThan(MESSAGE_LIMIT_CHARS + 20);
  });
  it('stops reading an endless failure body instead of waiting for its end', async () => {
    const { url } = await receiver((_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      const timer = setInterval(() => response.write('y'.repeat(1024)), 1);
      response.on('close', () => clearInterval(timer));
    });
    const result = await client.call(hook(url, { timeout: 5_000 }), context);
    expect(result).toMatchObject({ ok: false, status: 500 });
    expect(result.message.startsWith('y'.repeat(MESSAGE_LIMIT_CHARS))).toBe(true);
  });
});

describe('WebhookClient payload', () => {
  it("POSTs Flagger's JSON payload with its keys in order", async () => {
    const { url, received } = await receiver(answer(200));
    await client.call(
      hook(url, { metadata: { type: 'cmd', cmd: 'hey -z 1m http://podinfo-canary.test/' } }),
      context,
    );
    expect(received).toHaveLength(1);
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(received[0]?.body).toEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Progressing',
      checksum: 'abc123',
      metadata: { type: 'cmd', cmd: 'hey -z 1m http://podinfo-canary.test/' },
    });
    expect(Object.keys(received[0]?.body as object)).toEqual([
      'name',
      'namespace',
      'phase',
      'checksum',
      'metadata',
    ]);
  });

  it('omits metadata when the hook has none, like Go omitempty', async () => {
    const { url, received } = await receiver(answer(200));
    await client.call(hook(url), context);
    expect(received[0]?.raw).toBe(
      '{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"abc123"}',
    );
  });

  it('adds eventMessage, eventType and timestamp to event hook metadata; those keys win', async () => {
    const { url, received } = await receiver(answer(202));
    const eventHook = hook(url, { type: 'event', metadata: { team: 'web', eventType: 'overridden' } });
    const result = await client.sendEvent(eventHook, context, {
      message: 'Advance podinfo.test canary weight 10',
      type: 'Normal',
    });
    expect(result.ok).toBe(true);
    expect(received[0]?.body).toEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Progressing',
      checksum: 'abc123',
      metadata: {
        team: 'web',
        eventMessage: 'Advance podinfo.test canary weight 10',
        eventType: 'Normal',
        timestamp: '1700000000123',
      },
    });
  });
});

describe('WebhookClient timeouts, network errors and retries', () => {
  it('fails a hook that never answers, naming the hook and URL', async () => {
    const { url } = await receiver(neverAnswers);
    const result = await client.call(hook(url, { timeout: 50 }), context);
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.message).toBe(`webhook load-test POST ${url} timed out after 50 ms`);
  });

  it('fails on a refused connection, naming the hook and URL', async () => {
    const { url } = await receiver(answer(200));
    const closing = servers.pop();
    closing?.closeAllConnections();
    await new Promise((resolve) => closing?.close(resolve));
    const result = await client.call(hook(url), context);
    expect(result.ok).toBe(false);
    expect(result.message).toContain(`webhook load-test POST ${url} failed:`);
    expect(result.message).toContain('ECONNREFUSED');
  });

  it('retries transient failures and counts attempts', async () => {
    const { url, received } = await receiver((request, response, index) =>
      answer(index < 2 ? 503 : 200, 'busy')(request, response, index),
    );
    const result = await client.call(hook(url, { retries: 3 }), context);
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 3 });
    expect(received).toHaveLength(3);
  });

  it('gives up after the retries, reporting the last body', async () => {
    const { url, received } = await receiver(answer(500, 'still broken'));
    const result = await client.call(hook(url, { retries: 2 }), context);
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 3, message: 'still broken' });
    expect(received).toHaveLength(3);
  });

  it('retries a timeout', async () => {
    const { url, received } = await receiver((request, response, index) => {
      if (index > 0) answer(200)(request, response, index);
    });
    const result = await client.call(hook(url, { timeout: 1500, retries: 1 }), context);
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(received).toHaveLength(2);
  });

  it('does not retry a final answer such as 403 from a closed gate', async () => {
    const { url, received } = await receiver(answer(403, 'Forbidden'));
    const result = await client.call(hook(url, { retries: 3 }), context);
    expect(result).toMatchObject({ ok: false, status: 403, attempts: 1 });
    expect(received).toHaveLength(1);
  });
});

describe('WebhookClient cancellation', () => {
  it('rejects with the abort reason while waiting for an answer, and stops retrying', async () => {
    const { url, received } = await receiver(neverAnswers);
    const controller = new AbortController();
    const call = client.call(hook(url, { retries: 5 }), context, controller.signal);
    await until(() => received.length === 1);
    controller.abort(new Error('shutting down'));
    await expect(call).rejects.toThrow('shutting down');
    expect(received).toHaveLength(1);
  });

  it('rejects on abort even on the last attempt', async () => {
    const { url, received } = await receiver(neverAnswers);
    const controller = new AbortController();
    const call = client.call(hook(url), context, controller.signal);
    await until(() => received.length === 1);
    controller.abort(new Error('shutting down'));
    await expect(call).rejects.toThrow('shutting down');
  });

  it('rejects during the backoff between retries', async () => {
    const { url, received } = await receiver(answer(503, 'busy'));
    const slowRetries = new WebhookClient({ backoffMs: () => 60_000 });
    const controller = new AbortController();
    const call = slowRetries.call(hook(url, { retries: 5 }), context, controller.signal);
    await until(() => received.length === 1);
    controller.abort(new Error('shutting down'));
    await expect(call).rejects.toThrow('shutting down');
    expect(received).toHaveLength(1);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const { url, received } = await receiver(answer(200));
    await expect(client.call(hook(url), context, AbortSignal.abort(new Error('gone')))).rejects.toThrow(
      'gone',
    );
    expect(received).toHaveLength(0);
  });
});

describe('rollback hooks over HTTP', () => {
  it('a 2xx from a rollback hook asks for a rollback; a 403 does not', async () => {
    const closed = await receiver(answer(403, 'Forbidden'));
    const open = await receiver(answer(200, 'Approved'));
    const hooks: WebhookSpec[] = [
      { type: 'rollback', name: 'gate-a', url: closed.url },
      { type: 'rollback', name: 'gate-b', url: open.url },
      { type: 'rollout', name: 'load-test', url: open.url },
    ];
    const stage = await runWebhookStage(client, hooks, 'rollback', context);
    expect(stage.verdict).toBe('rollback');
    expect(stage.decidedBy?.hook.name).toBe('gate-b');
    expect(stage.calls.map((call) => call.result.ok)).toEqual([false, true]);

    const quiet = await runWebhookStage(client, hooks.slice(0, 1), 'rollback', context);
    expect(quiet.verdict).toBe('continue');
  });
});

describe('webhookSpecIssues', () => {
  it('accepts a valid hook and names each bad field', () => {
    expect(webhookSpecIssues(hook('http://tester.test/'))).toEqual([]);
    expect(webhookSpecIssues({ url: 'ftp://tester', timeout: -1, retries: 1.5 })).toEqual([
      { path: 'url', message: 'expected an http(s) URL or aviary:gate, got "ftp://tester"' },
      { path: 'timeout', message: 'expected a positive duration, got -1' },
      { path: 'retries', message: 'expected a whole number >= 0, got 1.5' },
    ]);
  });

  it('turns a misconfigured hook into a failed result without any request', async () => {
    const result = await client.call({ name: 'typo', url: 'htp://tester/' }, context);
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.message).toContain('webhook typo is misconfigured: url:');
  });
});
