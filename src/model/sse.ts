/**
 * A Server-Sent Events parser (the WHATWG event-stream format), fed chunk by chunk as they arrive. It knows nothing
 * about Oleada and does no I/O; it lives in model/ because the CLI's --wait, the dashboard (which reads the stream
 * through fetch, since EventSource cannot send a bearer token) and the API's tests all read the stream with it.
 */

export interface SseMessage {
  /** The `event:` field; "message" when the server named none. */
  event: string;
  data: string;
  /** The `id:` field of this message, if it had one. */
  id: string | undefined;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private sawCarriageReturn = false;
  /** The last id the stream set: what a reconnect sends as Last-Event-ID. */
  lastEventId: string | undefined;
  /** The server's `retry:` advice in milliseconds, if it gave one. */
  retryMs: number | undefined;
  /** How many comment lines (heartbeats) arrived. */
  comments = 0;

  push(chunk: string): SseMessage[] {
    let text = chunk;
    // A CRLF split across two chunks: the LF belongs to the CR already handled.
    if (this.sawCarriageReturn && text.startsWith('\n')) text = text.slice(1);
    this.sawCarriageReturn = text.endsWith('\r');
    this.buffer += text;
    const messages: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) messages.push(message);
    }
    return messages;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.comments++;
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored, as the format requires.
        break;
    }
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const id = this.id;
    if (id !== undefined) this.lastEventId = id;
    const hadData = this.data.length > 0;
    const message = { event: this.event || 'message', data: this.data.join('\n'), id };
    this.data = [];
    this.event = '';
    this.id = undefined;
    return hadData ? message : undefined;
  }
}
