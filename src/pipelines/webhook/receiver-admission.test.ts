/**
 * Admission control of the webhook receiver over real loopback connections (port 0): the
 * in-flight bound (503) and each address's token bucket (429), both with Retry-After, from
 * 127.0.0.1 and 127.0.0.2 (Linux routes 127.0.0.0/8 to loopback). Deliveries are held in
 * flight by an `onPush` that waits on the test; the buckets' time is an injected clock.
 */
import { request, Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushDecision } from './receiver-options.js';
import {
  forgeHeaders,
  githubPush,
  startTestReceiver,
  TAG_COMMIT,
  type TestReceiver,
} from './test-support.js';

let hooks: TestReceiver | undefined;
const agents: Agent[] = [];

afterEach(async () => {
  await hooks?.dispose();
  hooks = undefined;
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
});

/** An agent whose connections come from `localAddress`. */
function from(localAddress: string): Agent {
  const agent = new Agent({ localAddress });
  agents.push(agent);
  return agent;
}

let deliveries = 0;

/** Posts a new signed tag push (a fresh tag, so never a duplicate), or an unsigned one. */
async function send(
  url: string,
  agent: Agent,
  options: { signed?: boolean } = {},
): Promise<{ status: number; retryAfter: string | undefined; code: string | undefined }> {
  deliveries += 1;
  const body = JSON.stringify(githubPush(`refs/tags/v0.0.${deliveries}`, TAG_COMMIT, 'acme/catalogdetail'));
  const secret = options.signed === false ? undefined : 'app-secret';
  const res = await request(`${url}/hooks/github`, {
    method: 'POST',
    body,
    headers: forgeHeaders('github', body, secret, 'push'),
    dispatcher: agent,
  });
  const answer = (await res.body.json()) as { error?: { code?: string } };
  const retryAfter = res.headers['retry-after'];
  return {
    status: res.statusCode,
    retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    code: answer.error?.code,
  };
}

/** An `onPush` that holds every push until `open()`, and tells when `count` are held. */
function gate() {
  const waiting: (() => void)[] = [];
  let opened = false;
  return {
    decide: (): Promise<PushDecision> =>
      new Promise((resolve) => {
        const go = () => resolve({ runId: 'run' });
        if (opened) go();
        else waiting.push(go);
      }),
    open(): void {
      opened = true;
      for (const go of waiting.splice(0)) go();
    },
  };
}

/** Resolves once `calls` has `count` entries (deliveries that reached `onPush`). */
async function held(test: TestReceiver, count: number): Promise<void> {
  while (test.calls.length < count) await new Promise((resolve) => setImmediate(resolve));
}

describe('webhook receiver: deliveries in flight', () => {
  it('answers 503 with Retry-After past half of maxInFlight from one address and past maxInFlight in all, then admits again', async () => {
    const held4 = gate();
    hooks = await startTestReceiver({ maxInFlight: 4, decide: held4.decide });
    const [one, two, three] = [from('127.0.0.1'), from('127.0.0.2'), from('127.0.0.3')];
    const first = [send(hooks.url, one), send(hooks.url, one)];
    await held(hooks, 2);
    expect(await send(hooks.url, one)).toEqual({ status: 503, retryAfter: '1', code: 'AVIARY_OVERLOADED' });

    const second = [send(hooks.url, two), send(hooks.url, two)];
    await held(hooks, 4);
    expect(await send(hooks.url, three)).toEqual({ status: 503, retryAfter: '1', code: 'AVIARY_OVERLOADED' });

    held4.open();
    expect((await Promise.all([...first, ...second])).map((a) => a.status)).toEqual([202, 202, 202, 202]);
    expect((await send(hooks.url, three)).status).toBe(202);
    expect(hooks.calls).toHaveLength(5);
  });
});

describe('webhook receiver: rate limit per address', () => {
  it('answers 429 with Retry-After past the burst, before the signature is checked, and accepts once the bucket refilled', async () => {
    let now = 0;
    hooks = await startTestReceiver({ rateLimit: { perSecond: 0.5, burst: 2 }, clock: () => now });
    const one = from('127.0.0.1');
    expect((await send(hooks.url, one)).status).toBe(202);
    expect((await send(hooks.url, one, { signed: false })).status).toBe(401);
    // Refused before the body is read: an unsigned delivery is 429, not 401.
    expect(await send(hooks.url, one, { signed: false })).toEqual({
      status: 429,
      retryAfter: '2',
      code: 'AVIARY_RATE_LIMITED',
    });
    now += 1000;
    expect(await send(hooks.url, one)).toEqual({ status: 429, retryAfter: '1', code: 'AVIARY_RATE_LIMITED' });
    expect(hooks.calls).toHaveLength(1);

    now += 1000;
    expect((await send(hooks.url, one)).status).toBe(202);
    expect(hooks.calls).toHaveLength(2);
  });

  it("keeps each address's bucket apart: a flood from one leaves another's deliveries accepted", async () => {
    hooks = await startTestReceiver({ rateLimit: { perSecond: 1, burst: 3 }, clock: () => 0 });
    const [flooder, forge] = [from('127.0.0.1'), from('127.0.0.2')];
    const flood = await Promise.all(
      Array.from({ length: 20 }, () => send(hooks!.url, flooder, { signed: false })),
    );
    expect(flood.filter((a) => a.status === 401)).toHaveLength(3);
    expect(flood.filter((a) => a.status === 429)).toHaveLength(17);
    expect((await send(hooks.url, forge)).status).toBe(202);
  });
});

describe('webhook receiver: admission options', () => {
  it('names a bad maxInFlight or rateLimit', async () => {
    await expect(
      startTestReceiver({ maxInFlight: 0, rateLimit: { perSecond: 0, burst: 1.5 } }),
    ).rejects.toMatchObject({
      code: 'AVIARY_CONFIG_INVALID',
      message: expect.stringMatching(
        /maxInFlight: expected a number >= 1, got 0[\s\S]*rateLimit\.perSecond: expected a number > 0, got 0[\s\S]*rateLimit\.burst: expected an integer, got 1\.5/,
      ),
    });
  });
});
