/** Reads an Oleada event stream in a test, with the CLI's own SSE parser, waiting on conditions with deadlines. */
import { SseParser, type SseMessage } from '../../../../src/model/sse.ts';

export interface TestStream {
  response: Response;
  parser: SseParser;
  messages: SseMessage[];
  /** Resolves once `predicate` holds for the messages so far; rejects at the deadline. */
  until(predicate: (messages: SseMessage[]) => boolean, timeoutMs?: number): Promise<SseMessage[]>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openStream(url: string, headers: Record<string, string>): Promise<TestStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const parser = new SseParser();
  const messages: SseMessage[] = [];
  const waiters = new Set<() => void>();
  const ended = (async () => {
    if (!response.ok || !response.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        messages.push(...parser.push(decoder.decode(chunk as Uint8Array, { stream: true })));
        for (const wake of waiters) wake();
      }
    } catch {
      // Aborted by close(): the test is done with the stream.
    } finally {
      for (const wake of waiters) wake();
    }
  })();
  let done = false;
  void ended.then(() => (done = true));
  return {
    response,
    parser,
    messages,
    ended,
    async until(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(messages)) {
        if (done) throw new Error(`the stream ended first; got ${JSON.stringify(messages.map((m) => m.event + ':' + (m.id ?? '')))}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${messages.length} messages`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        waiters.clear();
      }
      return messages;
    },
    close() {
      controller.abort();
    },
  };
}
