/**
 * Server-Sent Events for one rollout's event log. The stream sends every event after the client's position (the
 * Last-Event-ID it reconnects with, or ?after), then waits for the change feed (or a poll, if the feed is down) and
 * sends what is new. It ends itself once the rollout is terminal and every event was sent, with a final `end` event.
 * Asked for (the dashboard does), it also sends the rollout's whole status whenever its version moves, as a `status`
 * message without an id (so Last-Event-ID stays an event's sequence number): one stream then replaces polling.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';
import { registry } from '../../metrics.ts';
import { isTerminal } from '../../model/state.ts';
import { listEvents } from '../../store/events.ts';
import type { Pool } from '../../store/pool.ts';
import { getRolloutHead } from '../../store/rollout-reads.ts';
import { toEventView } from '../responses/events.ts';
import type { ChangeFeed } from './change-feed.ts';
import { formatSseEvent } from './sse-format.ts';
import type { StatusSnapshots } from './status-snapshots.ts';

export interface StreamOptions {
  /** A comment line this often keeps proxies and load balancers from closing an idle stream. */
  heartbeatMs: number;
  /** How often to look for new events when no notification came (the feed may be down, or a writer did not NOTIFY). */
  pollMs: number;
  /** What a reconnecting client should wait, sent as the stream's `retry:` field. */
  retryMs: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { heartbeatMs: 15_000, pollMs: 2_000, retryMs: 1_000 };

const BATCH = 500;

const openStreams = new Gauge({
  name: 'oleada_api_event_streams',
  help: 'Event streams (Server-Sent Events) open on this process.',
  registers: [registry],
});

/** The open streams, so that shutting the API down can end them instead of waiting for the clients to leave. */
export class StreamRegistry {
  private readonly open = new Set<() => void>();

  add(end: () => void): () => void {
    this.open.add(end);
    openStreams.inc();
    return () => {
      if (this.open.delete(end)) openStreams.dec();
    };
  }

  get size(): number {
    return this.open.size;
  }

  endAll(): void {
    for (const end of [...this.open]) end();
  }
}

export interface StreamDeps {
  pool: Pool;
  feed: ChangeFeed | undefined;
  streams: StreamRegistry;
  options: StreamOptions;
  /** Given, the stream also sends the rollout's status at every new version (`event: status`). */
  status?: StatusSnapshots | undefined;
}

/** Takes the reply over and streams until the rollout ends, the client leaves, or the API shuts down. */
export async function streamRolloutEvents(
  deps: StreamDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  rolloutId: string,
  afterSeq: number,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers responses by default, which would hold events back until the buffer fills.
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });

  let closed = false;
  let wake: (() => void) | undefined;
  const nudge = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const end = () => {
    if (closed) return;
    closed = true;
    nudge();
  };
  const unregister = deps.streams.add(end);
  const unsubscribe = deps.feed?.onRollout(rolloutId, nudge);
  raw.on('close', end);
  raw.on('error', end);

  const write = async (text: string): Promise<void> => {
    if (closed) return;
    if (!raw.write(text)) {
      // A slow reader: wait for the buffer to drain rather than let it grow without bound.
      await new Promise<void>((resolve) => {
        const done = () => {
          raw.off('drain', done);
          raw.off('close', done);
          resolve();
        };
        raw.on('drain', done);
        raw.on('close', done);
      });
    }
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    await write(`retry: ${deps.options.retryMs}\n\n`);
    let lastSent = afterSeq;
    let statusVersion = -1;
    let lastWrite = Date.now();
    while (!closed) {
      // The head is read before the events: events are written in the same transaction as the state, so once a
      // terminal phase is seen here, the query that follows sees every event the rollout will ever have.
      const head = await getRolloutHead(deps.pool, rolloutId);
      if (!head) break;
      if (deps.status && head.version > statusVersion) {
        const status = await deps.status.message(rolloutId, head.version);
        if (!status) break;
        await write(status.text);
        statusVersion = status.version;
        lastWrite = Date.now();
      }
      const events = await listEvents(deps.pool, rolloutId, lastSent, BATCH);
      for (const event of events) {
        await write(formatSseEvent({ id: event.seq, event: 'event', data: toEventView(event) }));
        lastSent = event.seq;
        lastWrite = Date.now();
      }
      if (events.length === BATCH) continue;
      if (isTerminal(head.phase)) {
        await write(formatSseEvent({ event: 'end', data: { phase: head.phase, lastEventSeq: lastSent } }));
        break;
      }
      const listening = deps.feed?.listening ?? false;
      const quietFor = Date.now() - lastWrite;
      const untilHeartbeat = Math.max(0, deps.options.heartbeatMs - quietFor);
      // While the feed listens, polling is only a safety net for writers that forgot to NOTIFY.
      const pollIn = listening ? deps.options.pollMs * 5 : deps.options.pollMs;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(nudge, Math.min(untilHeartbeat, pollIn));
      });
      clearTimeout(timer);
      if (!closed && Date.now() - lastWrite >= deps.options.heartbeatMs) {
        await write(': heartbeat\n\n');
        lastWrite = Date.now();
      }
    }
  } catch (err) {
    request.log.warn({ err, rolloutId }, 'event stream failed; the client will reconnect with Last-Event-ID');
  } finally {
    clearTimeout(timer);
    unsubscribe?.();
    unregister();
    raw.off('close', end);
    raw.off('error', end);
    if (!raw.writableEnded) raw.end();
  }
}
