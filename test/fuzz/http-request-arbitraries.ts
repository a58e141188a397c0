/**
 * fast-check generators of HTTP/1.1 requests, valid and not: malformed request lines,
 * malformed and oversized headers, the framing conflicts request smuggling is built from
 * (RFC 9112 §6.3: Content-Length with Transfer-Encoding, duplicate Content-Length, obfuscated
 * `chunked`, obs-fold §5.2) and broken chunked bodies (§7.1), each possibly followed by a
 * second, "smuggled" request whose target is `/smuggled`.
 */
import fc from 'fast-check';

/** The path every hidden request asks for, so a backend can count what got through. */
export const SMUGGLED_PATH = '/smuggled';

const smuggled = `GET ${SMUGGLED_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`;

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'G ET',
      'GET\0',
      'ÄGET',
      'get',
      'CONNECT',
      'PRI',
      '\x7f',
      'GET\t',
      'X'.repeat(300),
    ),
  },
);

const target = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('/', '/api/v1/status', '/hooks/github', '/x?y=1', '*', 'http://127.0.0.1/'),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('', '/a b', '/\0', '/\r', '/é', '/%zz', '//', '/\x1b[31m'),
      fc.integer({ min: 1_000, max: 40_000 }).map((size) => `/${'a'.repeat(size)}`),
      fc.string({ maxLength: 20 }).map((text) => `/${text}`),
    ),
  },
);

const version = fc.oneof(
  { weight: 8, arbitrary: fc.constant(' HTTP/1.1') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ' HTTP/1.0',
      '',
      ' HTTP/0.9',
      ' HTTP/2.0',
      ' HTTP/1.1x',
      ' http/1.1',
      '  HTTP/1.1',
      ' HTTP/9.9',
    ),
  },
);

const lineEnd = fc.oneof(
  { weight: 12, arbitrary: fc.constant('\r\n') },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r') },
);

/** A header line other than framing, ending without its line end. */
const header = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('X-A: b', 'Accept: */*', 'User-Agent: fuzz', 'Content-Type: application/json'),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom(
        'Xab',
        ': empty-name',
        'X-A : spaced',
        'X-A:\0',
        'X-A: a\rb',
        'X-A: \x7f',
        'X-É: 1',
        ' X-Fold: continues',
        '\tfolded',
      ),
      fc.integer({ min: 1_000, max: 40_000 }).map((size) => `X-Big: ${'v'.repeat(size)}`),
      fc.string({ maxLength: 30 }).map((text) => `X-Any: ${text}`),
      fc.string({ maxLength: 30 }),
    ),
  },
);

const host = fc.oneof(
  { weight: 8, arbitrary: fc.constant(['Host: 127.0.0.1']) },
  {
    weight: 1,
    arbitrary: fc.constantFrom([], ['Host: 127.0.0.1', 'Host: evil.example'], ['Host: a b'], ['Host:']),
  },
);

/** How the body is framed: header lines and whether the body is sent chunked. */
interface Framing {
  readonly lines: string[];
  readonly chunked: boolean;
}

const framing: fc.Arbitrary<(length: number) => Framing> = fc.constantFrom(
  () => ({ lines: [], chunked: false }),
  (n: number) => ({ lines: [`Content-Length: ${n}`], chunked: false }),
  (n: number) => ({ lines: [`Content-Length: ${n + 5}`], chunked: false }),
  (n: number) => ({ lines: [`Content-Length: ${n}`, `Content-Length: ${n}`], chunked: false }),
  (n: number) => ({ lines: [`Content-Length: ${n}`, 'Content-Length: 0'], chunked: false }),
  (n: number) => ({ lines: [`Content-Length: ${n}, ${n}`], chunked: false }),
  () => ({ lines: ['Content-Length: -1'], chunked: false }),
  (n: number) => ({ lines: [`Content-Length: +${n}`], chunked: false }),
  (n: number) => ({ lines: [`Content-Length: 0x${n.toString(16)}`], chunked: false }),
  () => ({ lines: ['Content-Length: 99999999999999999999999'], chunked: false }),
  (n: number) => ({ lines: [`Content-Length : ${n}`], chunked: false }),
  (n: number) => ({ lines: [`Content-Length:\n ${n}`], chunked: false }),
  () => ({ lines: ['Transfer-Encoding: chunked'], chunked: true }),
  (n: number) => ({ lines: [`Content-Length: ${n}`, 'Transfer-Encoding: chunked'], chunked: true }),
  (n: number) => ({ lines: ['Transfer-Encoding: chunked', `Content-Length: ${n}`], chunked: true }),
  () => ({ lines: ['Transfer-Encoding: xchunked'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding:  chunked'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding: chunked, chunked'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding: gzip, chunked'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding: chunked, gzip'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding: identity'], chunked: false }),
  () => ({ lines: ['Transfer-Encoding : chunked'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding:\tchunked'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding: CHUNKED'], chunked: true }),
  () => ({ lines: ['Transfer-Encoding:', ' chunked'], chunked: true }),
  () => ({ lines: ['X-Padding: x', 'Transfer-Encoding\0: chunked'], chunked: true }),
);

/** A chunked encoding of `body`, valid or broken in one of the ways parsers disagree on. */
const chunking: fc.Arbitrary<(body: string) => string> = fc.constantFrom(
  (body: string) => `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
  (body: string) => `${body.length.toString(16)};ext=1\r\n${body}\r\n0\r\n\r\n`,
  (body: string) => `${body.length.toString(16)}\r\n${body}\r\n0\r\nX-Trailer: 1\r\n\r\n`,
  (body: string) => `${body.length.toString(16)}\r\n${body}0\r\n\r\n`,
  (body: string) => `${body.length.toString(16)}\n${body}\n0\n\n`,
  (body: string) => `zz\r\n${body}\r\n0\r\n\r\n`,
  (body: string) => `-1\r\n${body}\r\n0\r\n\r\n`,
  (body: string) => `ffffffffffffffffffff\r\n${body}\r\n0\r\n\r\n`,
  (body: string) => `${(body.length + 3).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
  (body: string) => ` ${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
  (body: string) => `${body.length.toString(16)} \r\n${body}\r\n0\r\n\r\n`,
  (body: string) => `${body.length.toString(16)}\r\n${body}\r\n0\r\n`,
  (body: string) => `0x${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
  (body: string) => `${body.length.toString(16)}\r\n${body}\r\n`,
);

const body = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('', '{}', '{"a":1}', 'hello') },
  { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 300_000 }).map((size) => 'b'.repeat(size)) },
);

/** One fuzzed request as bytes, with a label for failure messages. */
export interface FuzzedRequest {
  readonly bytes: Buffer;
  readonly label: string;
}

/** Requests built from the generators above; `close` decides `Connection: close` independently. */
export const fuzzedRequest: fc.Arbitrary<FuzzedRequest> = fc
  .record({
    method,
    target,
    version,
    lineEnd,
    host,
    headers: fc.array(header, { maxLength: 6 }),
    manyHeaders: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 100, max: 2_000 }) },
    ),
    framing,
    chunking,
    body,
    close: fc.boolean(),
    smuggle: fc.boolean(),
  })
  .map((parts) => {
    const payload = parts.smuggle ? `${parts.body}${smuggled}` : parts.body;
    const frame = parts.framing(Buffer.byteLength(payload, 'latin1'));
    const lines = [
      `${parts.method} ${parts.target}${parts.version}`,
      ...parts.host,
      ...parts.headers,
      ...Array.from({ length: parts.manyHeaders }, (_, index) => `X-Many-${index}: ${index}`),
      ...frame.lines,
      ...(parts.close ? ['Connection: close'] : []),
    ];
    const head = `${lines.join(parts.lineEnd)}${parts.lineEnd}${parts.lineEnd}`;
    const encoded = frame.chunked ? parts.chunking(payload) : payload;
    const label = `${JSON.stringify(head.slice(0, 600))} + ${encoded.length} body bytes${parts.smuggle ? ' (with a smuggled request)' : ''}`;
    return { bytes: Buffer.from(`${head}${encoded}`, 'latin1'), label };
  });
