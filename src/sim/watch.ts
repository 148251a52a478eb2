// Watch streams: one JSON event per line. A watch starts from a resourceVersion (replaying the history after it),
// or from "now" with a synthetic ADDED per existing object. An object that stops (or starts) matching the selectors
// is sent as DELETED (or ADDED), as the API server's watch cache does. When the history no longer reaches back to the
// requested resourceVersion, the stream carries one ERROR event with a 410 Expired status and ends, which is what
// client-go's reflector and client-node's informer react to by listing again.
import type { ServerResponse } from 'node:http';
import { expired } from './errors.ts';
import type { Faults } from './faults.ts';
import type { KubeObject } from './objects.ts';
import { apiVersionOf, type ResourceType } from './resources.ts';
import { matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from './selectors.ts';
import { HistoryCompactedError, type ObjectStore, type StoreEvent } from './store.ts';

export interface WatchRequest {
  type: ResourceType;
  version: string;
  namespace?: string;
  labels: LabelSelector;
  fields: FieldSelector;
  /** undefined or "0": start with the current objects; otherwise replay from just after this resourceVersion. */
  resourceVersion?: string;
  timeoutSeconds?: number;
  bookmarks: boolean;
  /** Real milliseconds between BOOKMARK events when bookmarks are asked for. */
  bookmarkIntervalMs?: number;
  /** When the client asked for Tables (`kubectl get -w`): renders one object as a Table with one row. */
  asTable?: (obj: KubeObject, withColumns: boolean) => Record<string, unknown>;
  /** Injected faults: a cut of every open watch, and 410 Gone for a watch that resumes. */
  faults?: Pick<Faults, 'onWatchOpen' | 'takeExpiredResume'>;
}

export function serveWatch(store: ObjectStore, request: WatchRequest, res: ServerResponse, onEnd: () => void): void {
  const { type, namespace } = request;
  const apiVersion = apiVersionOf(type, request.version);
  const matches = (obj: KubeObject | undefined): boolean =>
    obj !== undefined &&
    (namespace === undefined || obj.metadata.namespace === namespace) &&
    (request.labels.length === 0 || matchesLabels(request.labels, obj.metadata.labels)) &&
    (request.fields.length === 0 || matchesFields(request.fields, obj));
  let first = true;
  const send = (eventType: string, obj: KubeObject) => {
    let object: unknown = obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
    if (request.asTable) {
      // Column definitions travel with the first event only, as the API server sends them.
      object = request.asTable(object as KubeObject, first);
      first = false;
    }
    res.write(`${JSON.stringify({ type: eventType, object })}\n`);
  };
  const deliver = (event: StoreEvent) => {
    if (event.resource.key !== type.key) return;
    const now = matches(event.object);
    const before = event.type === 'MODIFIED' ? matches(event.previous) : now;
    if (event.type === 'MODIFIED') {
      if (now && before) send('MODIFIED', event.object);
      else if (now) send('ADDED', event.object);
      else if (before) send('DELETED', event.object);
    } else if (now) {
      send(event.type, event.object);
    }
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  // Send the headers now: a client waits for them before it reads events, and there may be none for a while.
  res.flushHeaders();
  const rv = request.resourceVersion;
  if (rv === undefined || rv === '' || rv === '0') {
    for (const obj of store.list(type, namespace)) if (matches(obj)) send('ADDED', obj);
  } else {
    const revision = Number(rv);
    if (!Number.isInteger(revision) || revision < 0 || request.faults?.takeExpiredResume()) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: expired(`invalid resource version "${rv}"`).toStatus() })}\n`);
      onEnd();
      return;
    }
    try {
      for (const event of store.eventsSince(type, revision)) deliver(event);
    } catch (err) {
      if (!(err instanceof HistoryCompactedError)) throw err;
      res.end(`${JSON.stringify({ type: 'ERROR', object: expired(err.message).toStatus() })}\n`);
      onEnd();
      return;
    }
  }

  // Nothing yields between replaying and subscribing, so no event can fall in between.
  const unsubscribe = store.subscribe(deliver);
  const timers: NodeJS.Timeout[] = [];
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
    if (!res.writableEnded) res.end();
    onEnd();
  };
  if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0) timers.push(setTimeout(end, request.timeoutSeconds * 1000));
  if (request.bookmarks) {
    const interval = setInterval(() => {
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion, metadata: { resourceVersion: String(store.currentRevision) } } })}\n`);
    }, request.bookmarkIntervalMs ?? 60_000);
    timers.push(interval);
  }
  res.on('close', end);
  res.on('error', end);
  if (request.faults) {
    const forget = request.faults.onWatchOpen(() => res.destroy(), { resource: type.key, ...(namespace !== undefined && { namespace }) });
    res.on('close', forget);
  }
}
