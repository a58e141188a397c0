/**
 * A bounded flood of webhook deliveries for the `webhook-flood` scenario: `total` POSTs to
 * one receiver route over `connections` concurrent keep-alive connections from one loopback
 * address, mixed in turn: unsigned, signed with a wrong secret, and copies of a real signed
 * delivery (its own delivery id, or a new one for the same push). Each answer is counted by
 * status; a request that got no answer is counted by its error code.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { githubSignature } from '../src/pipelines/webhook/index.js';

/** One signed delivery the flood copies. */
export interface SignedDelivery {
  readonly body: Buffer;
  readonly deliveryId: string;
  readonly secret: string;
}

/** What the flood sends. */
export interface FloodOptions {
  /** The route, e.g. `http://127.0.0.1:40123/hooks/github`. */
  readonly url: string;
  readonly total: number;
  readonly connections: number;
  readonly original: SignedDelivery;
  readonly signal: AbortSignal;
}

/** Answers by status (`"429"`) or, for a request with no answer, by error code (`"UND_ERR_SOCKET"`). */
export type FloodAnswers = Record<string, number>;

type Kind = 'unsigned' | 'wrong-signature' | 'same-delivery' | 'new-delivery';
const KINDS: readonly Kind[] = ['unsigned', 'wrong-signature', 'same-delivery', 'new-delivery'];

function headersOf(kind: Kind, original: SignedDelivery): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': kind === 'same-delivery' ? original.deliveryId : randomUUID(),
  };
  if (kind === 'wrong-signature')
    headers['x-hub-signature-256'] = githubSignature('not-the-secret', original.body);
  else if (kind !== 'unsigned')
    headers['x-hub-signature-256'] = githubSignature(original.secret, original.body);
  return headers;
}

/** Sends the flood and resolves with its answers once every request has one (or failed). */
export async function flood(options: FloodOptions): Promise<FloodAnswers> {
  const answers: FloodAnswers = {};
  const count = (key: string): void => {
    answers[key] = (answers[key] ?? 0) + 1;
  };
  const agent = new Agent({ connections: options.connections, localAddress: '127.0.0.1' });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.total && !options.signal.aborted) {
      const kind = KINDS[next % KINDS.length]!;
      next += 1;
      try {
        const res = await request(options.url, {
          method: 'POST',
          body: options.original.body,
          headers: headersOf(kind, options.original),
          dispatcher: agent,
        });
        await res.body.dump();
        count(String(res.statusCode));
      } catch (error) {
        count((error as { code?: string }).code ?? (error as Error).name);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    await agent.destroy();
  }
  return answers;
}

/** A GitHub ping signed with the source's secret, from 127.0.0.2: the forge at another address. */
export async function forgePing(hooks: string, secret: string): Promise<number | string> {
  const agent = new Agent({ localAddress: '127.0.0.2' });
  const body = Buffer.from('{"zen":"Keep it logically awesome.","hook_id":1}');
  try {
    const res = await request(`${hooks}/hooks/github`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'ping',
        'x-github-delivery': 'chaos-ping',
        'x-hub-signature-256': githubSignature(secret, body),
      },
      dispatcher: agent,
    });
    await res.body.dump();
    return res.statusCode;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await agent.close();
  }
}
