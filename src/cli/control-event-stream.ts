/**
 * The wire format of the control API's live feed, `GET /api/v1/events/stream`: a
 * `text/event-stream` body (Server-Sent Events) split into messages. Kept apart from the
 * HTTP client so the parser is tested on its own, chunk boundaries included.
 */

/** One message of a Server-Sent Events stream. */
export interface ServerSentEvent {
  /** The `event:` field; `message` when absent. */
  readonly event: string;
  readonly data: string;
}

/**
 * Splits a `text/event-stream` body into messages, following the WHATWG HTML "interpreting
 * an event stream" rules: lines end in CRLF, LF or CR; a blank line dispatches; `:` starts
 * a comment; one space after the colon is dropped; `data` lines join with LF; a message
 * without data is not dispatched.
 */
export async function* readServerSentEvents(
  chunks: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const end = buffer.search(/[\r\n]/);
      if (end < 0) break;
      // A CR at the end of the buffer may be the first half of a CRLF split across chunks.
      if (buffer[end] === '\r' && end === buffer.length - 1 && !final) break;
      const width = buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1;
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + width);
    }
  };
  const take = (line: string): ServerSentEvent | undefined => {
    if (line === '') {
      const message = data.length > 0 ? { event: event || 'message', data: data.join('\n') } : undefined;
      event = '';
      data = [];
      return message;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    return undefined;
  };
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) {
      const message = take(line);
      if (message) yield message;
    }
  }
  buffer += decoder.decode();
  for (const line of lines(true)) {
    const message = take(line);
    if (message) yield message;
  }
}
