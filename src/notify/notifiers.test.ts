import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEvent, AlertProviderConfig, NotifierOptions } from './alert-types.js';
import { rollingBack } from './messages.js';
import { createNotifier, NOTIFIER_KINDS, type NotifierKind } from './notifier-registry.js';

interface Received {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

type Handler = (response: ServerResponse, index: number) => void;

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A loopback chat endpoint on port 0 recording each POST. */
async function receiver(handler: Handler = (response) => response.end('ok')) {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      received.push({ path: request.url ?? '', contentType: request.headers['content-type'], body });
      handler(response, received.length - 1);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, received };
}

/** An address whose port has nothing listening. */
async function deadAddress(): Promise<string> {
  const { origin } = await receiver();
  const server = servers.pop();
  await new Promise((resolve) => server?.close(resolve));
  return `${origin}${SECRET_PATH}`;
}

const SECRET_PATH = '/services/T0001/B0002/s3cr3t-t0k3n';
const AT = Date.parse('2025-03-01T10:00:00.000Z');
const fast: NotifierOptions = { backoffMs: () => 0, retries: 1 };
const app = { name: 'podinfo', namespace: 'test' };
const sample: AlertEvent = {
  ...rollingBack(app, 'failed checks threshold reached 5'),
  fields: [{ name: 'Target', value: 'Deployment/podinfo.test' }],
  timestamp: AT,
};

function provider(
  type: string,
  address: string,
  extra: Partial<AlertProviderConfig> = {},
): AlertProviderConfig {
  return { type, address, ...extra };
}

// One conformance suite for every provider (as Hono's router suite): each case only says
// what its JSON body must contain.
const conformance: Record<NotifierKind, (body: Record<string, unknown>) => void> = {
  slack: (body) =>
    expect(body).toMatchObject({ text: sample.message, attachments: [{ title: 'podinfo.test' }] }),
  rocket: (body) =>
    expect(body).toMatchObject({ text: sample.message, attachments: [{ title: 'podinfo.test' }] }),
  msteams: (body) =>
    expect(body).toMatchObject({ '@type': 'MessageCard', sections: [{ activityTitle: sample.message }] }),
  discord: (body) =>
    expect(body).toMatchObject({ content: sample.message, embeds: [{ title: 'podinfo.test' }] }),
  gchat: (body) => expect(body.text).toContain(sample.message),
  webhook: (body) => expect(body).toMatchObject({ app, severity: 'error', message: sample.message }),
};

describe.each(NOTIFIER_KINDS)('%s notifier conformance', (kind) => {
  it('POSTs one JSON message carrying the alert text', async () => {
    const { origin, received } = await receiver();
    const notifier = createNotifier(provider(kind, `${origin}${SECRET_PATH}`), fast);
    expect(notifier.kind).toBe(kind);
    const result = await notifier.post(sample);
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(received).toHaveLength(1);
    expect(received[0]?.path).toBe(SECRET_PATH);
    expect(received[0]?.contentType).toBe('application/json');
    conformance[kind](received[0]?.body as Record<string, unknown>);
  });

  it('returns a failure for a dead receiver, without throwing or revealing the address path', async () => {
    const notifier = createNotifier(provider(kind, await deadAddress()), fast);
    const result = await notifier.post(sample);
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(2);
    expect(result.message).toContain(`${kind} notifier POST http://127.0.0.1:`);
    expect(result.message).not.toContain('s3cr3t');
  });

  it('retries a 5xx once and reports the body', async () => {
    const { origin, received } = await receiver((response) =>
      response.writeHead(503).end('rate limited upstream'),
    );
    const result = await createNotifier(provider(kind, origin), fast).post(sample);
    expect(result).toMatchObject({ ok: false, status: 503, attempts: 2, message: 'rate limited upstream' });
    expect(received).toHaveLength(2);
  });

  it('rejects an address that is not an http(s) URL without echoing it', () => {
    expect(() => createNotifier(provider(kind, 'hooks.slack.com/services/s3cr3t'))).toThrow(
      expect.objectContaining({
        code: 'AVIARY_ALERT_PROVIDER_INVALID',
        message: expect.not.stringContaining('s3cr3t') as string,
      }) as Error,
    );
  });
});

describe('payload shapes', () => {
  async function bodyFor(kind: NotifierKind, extra: Partial<AlertProviderConfig> = {}): Promise<unknown> {
    const { origin, received } = await receiver();
    await createNotifier(provider(kind, origin, extra), fast).post(sample);
    return received[0]?.body;
  }

  it('slack: channel, username and one coloured attachment with fields', async () => {
    expect(await bodyFor('slack', { channel: 'deploys', username: 'release-bot' })).toEqual({
      channel: 'deploys',
      username: 'release-bot',
      icon_emoji: ':rocket:',
      text: 'Rolling back podinfo.test: failed checks threshold reached 5',
      attachments: [
        {
          color: 'danger',
          title: 'podinfo.test',
          text: 'Rolling back podinfo.test: failed checks threshold reached 5',
          mrkdwn_in: ['text'],
          fields: [{ title: 'Target', value: 'Deployment/podinfo.test', short: false }],
          footer: 'aviary · error',
          ts: AT / 1000,
        },
      ],
    });
  });

  it('rocket: the Slack body with Flagger defaults for channel and username', async () => {
    expect(await bodyFor('rocket')).toMatchObject({
      channel: 'general',
      username: 'aviary',
      attachments: [{}],
    });
  });

  it('msteams: a MessageCard with facts', async () => {
    expect(await bodyFor('msteams')).toEqual({
      '@type': 'MessageCard',
      '@context': 'http://schema.org/extensions',
      themeColor: 'FF0000',
      summary: 'podinfo.test: Rolling back podinfo.test: failed checks threshold reached 5',
      sections: [
        {
          activityTitle: 'Rolling back podinfo.test: failed checks threshold reached 5',
          activitySubtitle: 'podinfo.test',
          facts: [
            { name: 'Target', value: 'Deployment/podinfo.test' },
            { name: 'Severity', value: 'error' },
            { name: 'Time', value: '2025-03-01T10:00:00.000Z' },
          ],
        },
      ],
    });
  });

  it('discord: native content and embeds', async () => {
    expect(await bodyFor('discord', { username: 'release-bot', channel: 'ignored' })).toEqual({
      username: 'release-bot',
      content: 'Rolling back podinfo.test: failed checks threshold reached 5',
      embeds: [
        {
          title: 'podinfo.test',
          description: 'Rolling back podinfo.test: failed checks threshold reached 5',
          color: 0xe01e5a,
          fields: [{ name: 'Target', value: 'Deployment/podinfo.test', inline: false }],
          footer: { text: 'aviary · error' },
          timestamp: '2025-03-01T10:00:00.000Z',
        },
      ],
    });
  });

  it("discord: cuts text to Discord's limits", async () => {
    const { origin, received } = await receiver();
    const long: AlertEvent = {
      ...sample,
      message: 'm'.repeat(5000),
      fields: Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, value: 'v'.repeat(2000) })),
    };
    await createNotifier(provider('discord', origin), fast).post(long);
    const body = received[0]?.body as {
      content: string;
      embeds: [{ description: string; fields: { value: string }[] }];
    };
    expect(body.content).toHaveLength(2000);
    expect(body.embeds[0].description).toHaveLength(4096);
    expect(body.embeds[0].fields).toHaveLength(25);
    expect(body.embeds[0].fields[0]?.value).toHaveLength(1024);
  });

  it('gchat: a single text message', async () => {
    expect(await bodyFor('gchat')).toEqual({
      text: '*podinfo.test* (error) Rolling back podinfo.test: failed checks threshold reached 5\nTarget: Deployment/podinfo.test',
    });
  });

  it('webhook: {app, severity, message, fields, timestamp}', async () => {
    expect(await bodyFor('webhook')).toEqual({
      app: { name: 'podinfo', namespace: 'test' },
      severity: 'error',
      message: 'Rolling back podinfo.test: failed checks threshold reached 5',
      fields: [{ name: 'Target', value: 'Deployment/podinfo.test' }],
      timestamp: '2025-03-01T10:00:00.000Z',
    });
  });
});

describe('createNotifier', () => {
  it('lists the known types for an unknown one', () => {
    expect(() => createNotifier(provider('pagerduty', 'https://events.example/'))).toThrow(
      expect.objectContaining({
        code: 'AVIARY_ALERT_PROVIDER_UNKNOWN',
        message:
          'alertProviders[].type: unknown alert provider kind "pagerduty"; known kinds: slack, msteams, discord, rocket, gchat, webhook',
      }) as Error,
    );
  });

  it('names a bad sending option instead of retrying forever', async () => {
    const notifier = createNotifier(provider('webhook', 'http://127.0.0.1:9/'), { retries: Number.NaN });
    await expect(notifier.post(sample)).rejects.toThrow(
      expect.objectContaining({
        code: 'AVIARY_HTTP_OPTION_INVALID',
        message: 'webhook notifier POST http://127.0.0.1:9/…: retries must be a whole number >= 0, got NaN',
      }) as Error,
    );
  });

  it('reports fields it accepts but ignores', () => {
    const notifier = createNotifier(
      provider('slack', 'https://hooks.example/x', {
        proxy: 'http://proxy:3128',
        secretRef: { name: 'slack-url' },
      }),
    );
    expect(notifier.warnings).toEqual([
      'proxy is not supported and is ignored',
      'secretRef slack-url is not resolved; the address field is used',
    ]);
  });
});
