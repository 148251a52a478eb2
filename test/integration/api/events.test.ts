import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryAt, drive, finish } from './support/drive.ts';
import { json, rolloutSpec, startHarness, TOKENS, type Harness } from './support/harness.ts';
import { openStream } from './support/stream.ts';
import { waitFor } from '../../support/wait.ts';

let api: Harness;

beforeAll(async () => {
  api = await startHarness();
});
afterAll(async () => {
  await api?.close();
});

async function newRollout(app: string): Promise<string> {
  const response = await api.request('/api/v1/rollouts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rolloutSpec({ app })),
  });
  expect(response.status).toBe(201);
  return (await json(response)).id;
}

const auth = { authorization: `Bearer ${TOKENS.viewer.token}` };

describe('GET /rollouts/{id}/events', () => {
  it('pages the events after a sequence number, oldest first', async () => {
    const id = await newRollout('paged-events');
    await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 0, 10), [
      { type: 'rollout_started', message: 'started' },
      { type: 'weight_set', message: 'staging-eu at 10%', wave: 'canary', cluster: 'staging-eu', data: { weight: 10 } },
      { type: 'analysis', message: 'error-rate 0.001 ok', wave: 'canary', cluster: 'staging-eu' },
    ]);
    const all = await json(await api.request(`/api/v1/rollouts/${id}/events`));
    expect(all.items.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    expect(all.items[1]).toMatchObject({ type: 'weight_set', wave: 'canary', cluster: 'staging-eu', actor: 'oleada', data: { weight: 10 } });
    expect(all).toMatchObject({ nextAfter: 3, more: false, phase: 'progressing', terminal: false });
    const page = await json(await api.request(`/api/v1/rollouts/${id}/events?after=1&limit=1`));
    expect(page.items.map((e: { seq: number }) => e.seq)).toEqual([2]);
    expect(page).toMatchObject({ nextAfter: 2, more: true });
  });

  it.each(['after=-1', 'after=1e30', 'after=abc', 'limit=0', 'since=1'])('answers 400 to ?%s', async (query) => {
    const id = await newRollout(`bad-${query.replace(/[^a-z0-9]/g, '')}`);
    expect(await api.status(`/api/v1/rollouts/${id}/events?${query}`)).toBe(400);
  });
});

describe('GET /rollouts/{id}/events/stream', () => {
  it('streams the events, new ones as they are written, and ends after the terminal phase', async () => {
    const id = await newRollout('streamed');
    await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 0, 10), [{ type: 'rollout_started', message: 'started' }]);
    const stream = await openStream(`${api.url}/api/v1/rollouts/${id}/events/stream`, auth);
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await stream.until((m) => m.length === 1);
      expect(JSON.parse(stream.messages[0]!.data)).toMatchObject({ seq: 1, type: 'rollout_started' });
      expect(stream.messages[0]!.id).toBe('1');

      await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 1, 50), [{ type: 'weight_set', message: 'staging-eu at 50%' }]);
      await stream.until((m) => m.some((x) => x.id === '2'));

      await drive(api.pool, id, (s) => finish(s, 'succeeded', 'every wave succeeded'), [
        { type: 'promoted', message: 'promoted everywhere' },
        { type: 'rollout_succeeded', message: 'succeeded' },
      ]);
      await stream.ended;
      expect(stream.messages.map((m) => `${m.event}:${m.id ?? ''}`)).toEqual(['event:1', 'event:2', 'event:3', 'event:4', 'end:']);
      expect(JSON.parse(stream.messages.at(-1)!.data)).toEqual({ phase: 'succeeded', lastEventSeq: 4 });
      expect(stream.parser.retryMs).toBe(100);
    } finally {
      stream.close();
    }
  });

  it('with ?status=true, sends the whole status at the start and at every change (an analysis without an event too), the same for every stream', async () => {
    const id = await newRollout('streamed-status');
    await drive(api.pool, id, (s) => canaryAt(s, 'staging-eu', 0, 10), [{ type: 'rollout_started', message: 'started' }]);
    const url = `${api.url}/api/v1/rollouts/${id}/events/stream`;
    const streams = [await openStream(`${url}?status=true`, auth), await openStream(`${url}?status=true`, auth), await openStream(url, auth)];
    const statuses = (i: number) => streams[i]!.messages.filter((m) => m.event === 'status').map((m) => JSON.parse(m.data) as { etag: string; rollout: { revision: number; phase: string; reason: string } });
    try {
      for (const stream of streams) await stream.until((m) => m.some((x) => x.event === 'event'));
      const get = await api.request(`/api/v1/rollouts/${id}`);
      const current = await json(get);
      expect(streams[0]!.messages.map((m) => `${m.event}:${m.id ?? ''}`)).toEqual(['status:', 'event:1']);
      expect(statuses(0)[0]).toEqual({ etag: get.headers.get('etag'), rollout: current });

      // A change with no event (as an analysis that only counts a measurement) still moves the status on.
      const version = await drive(api.pool, id, (s) => {
        s.reason = 'measured once more';
      });
      for (const i of [0, 1]) await streams[i]!.until(() => statuses(i).some((s) => s.rollout.reason === 'measured once more'));
      expect(statuses(0).at(-1)!.etag).toBe(`"v2.${version}"`);
      expect(statuses(1).at(-1)).toEqual(statuses(0).at(-1));

      await drive(api.pool, id, (s) => finish(s, 'succeeded', 'every wave succeeded'), [{ type: 'rollout_succeeded', message: 'succeeded' }]);
      for (const stream of streams) await stream.ended;
      expect(streams[0]!.messages.map((m) => m.event).slice(-3)).toEqual(['status', 'event', 'end']);
      expect(statuses(0).at(-1)!.rollout.phase).toBe('succeeded');
      expect(streams[2]!.messages.some((m) => m.event === 'status')).toBe(false);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('resumes after Last-Event-ID with only what the client missed', async () => {
    const id = await newRollout('resumed');
    await drive(api.pool, id, (s) => finish(s, 'rolled_back', 'error-rate failed in staging-eu'), [
      { type: 'rollout_started', message: 'started' },
      { type: 'analysis_failed', message: 'error-rate 0.2 > 0.01' },
      { type: 'rolled_back', message: 'rolled back' },
    ]);
    const stream = await openStream(`${api.url}/api/v1/rollouts/${id}/events/stream`, { ...auth, 'last-event-id': '2' });
    await stream.ended;
    expect(stream.messages.map((m) => `${m.event}:${m.id ?? ''}`)).toEqual(['event:3', 'end:']);
    expect(JSON.parse(stream.messages[1]!.data).phase).toBe('rolled_back');
    // ?after= does the same for clients that cannot set headers; Last-Event-ID wins when both come.
    const byQuery = await openStream(`${api.url}/api/v1/rollouts/${id}/events/stream?after=1`, auth);
    await byQuery.ended;
    expect(byQuery.messages.map((m) => m.id ?? 'end')).toEqual(['2', '3', 'end']);
  });

  it('sends heartbeat comments while nothing happens', async () => {
    const id = await newRollout('quiet');
    const stream = await openStream(`${api.url}/api/v1/rollouts/${id}/events/stream`, auth);
    try {
      await stream.until(() => stream.parser.comments >= 2, 5_000);
      expect(stream.messages).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it('forgets a client that disconnects, and ends open streams when the API shuts down', async () => {
    const id = await newRollout('leaving');
    const openStreams = async () => {
      const text = await (await api.request('/metrics', { as: null })).text();
      return Number(/^oleada_api_event_streams (\d+)$/m.exec(text)?.[1]);
    };
    // Streams of the earlier tests are closed by their clients; the server notices a moment later.
    await waitFor('earlier streams to be forgotten', async () => (await openStreams()) === 0, 5_000);
    const baseline = 0;
    const stream = await openStream(`${api.url}/api/v1/rollouts/${id}/events/stream`, auth);
    await stream.until(() => stream.parser.retryMs !== undefined);
    expect(await openStreams()).toBe(baseline + 1);
    stream.close();
    const deadline = Date.now() + 5_000;
    while ((await openStreams()) > baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await openStreams()).toBe(baseline);

    // A second API whose stream is open when it closes: close() must not wait for the client.
    const other = await startHarness({ database: (api as Harness & { database: never }).database });
    const open = await openStream(`${other.url}/api/v1/rollouts/${id}/events/stream`, auth);
    await open.until(() => open.parser.retryMs !== undefined);
    const started = Date.now();
    await other.close();
    await open.ended;
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('answers 404 for an unknown rollout and 400 for a bad Last-Event-ID, before streaming', async () => {
    expect(await api.status('/api/v1/rollouts/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f/events/stream')).toBe(404);
    const id = await newRollout('bad-resume');
    const response = await api.request(`/api/v1/rollouts/${id}/events/stream`, { headers: { 'last-event-id': 'abc' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    await response.arrayBuffer();
  });
});
