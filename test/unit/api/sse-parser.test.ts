import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSseEvent } from '../../../src/api/live/sse-format.ts';
import { SseParser } from '../../../src/model/sse.ts';

describe('SseParser', () => {
  it('reads events with ids, names, comments and retry advice', () => {
    const parser = new SseParser();
    const messages = parser.push('retry: 1500\n\n: heartbeat\n\nid: 7\nevent: event\ndata: {"a":1}\n\ndata: plain\n\n');
    expect(messages).toEqual([
      { event: 'event', data: '{"a":1}', id: '7' },
      { event: 'message', data: 'plain', id: undefined },
    ]);
    expect(parser.lastEventId).toBe('7');
    expect(parser.retryMs).toBe(1500);
    expect(parser.comments).toBe(1);
  });

  it('joins several data lines and accepts CR, LF and CRLF line ends', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r\ndata: b\rdata: c\n\r\n')).toEqual([{ event: 'message', data: 'a\nb\nc', id: undefined }]);
  });

  it('gives the same messages however the stream is cut into chunks', () => {
    const stream =
      formatSseEvent({ id: 1, event: 'event', data: { message: 'héllo\nworld' } }) +
      ': heartbeat\r\n\r\n' +
      formatSseEvent({ id: 2, event: 'event', data: [1, 2] }) +
      formatSseEvent({ event: 'end', data: { phase: 'succeeded' } });
    const whole = new SseParser().push(stream);
    expect(whole.map((m) => m.event)).toEqual(['event', 'event', 'end']);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new SseParser();
        const got = [];
        let from = 0;
        for (const point of [...points, stream.length]) {
          got.push(...parser.push(stream.slice(from, point)));
          from = point;
        }
        expect(got).toEqual(whole);
        expect(parser.lastEventId).toBe('2');
      }),
    );
  });

  it('round-trips any JSON payload the API sends', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, id) => {
        const [message] = new SseParser().push(formatSseEvent({ id, event: 'event', data: value }));
        expect(JSON.parse(message!.data)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(message!.id).toBe(String(id));
      }),
    );
  });
});
