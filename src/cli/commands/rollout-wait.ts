/**
 * Following a rollout to its end, for `create --wait` and `events --follow`. Three outputs: a live frame redrawn in
 * place on a TTY, one timestamped line per event otherwise (CI logs), or one JSON object per line (`--output json`).
 */
import { followEvents } from '../client/follow.ts';
import { ApiError, type ApiClient } from '../client/http.ts';
import { GATE_EVENTS, personGate, standing } from '../client/gates.ts';
import { formatDurationMs, outcomeLine, plainEventLine, progressFrame, redraw } from '../client/render.ts';
import { isTerminal } from '../../model/state.ts';
import type { RolloutEvent, RolloutStatus } from '../client/types.ts';

export type OutputMode = 'tty' | 'plain' | 'json';

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** Terminal width for the live frame. */
  columns: number;
}

/** The exit code when `--timeout` ends a wait before the rollout does. */
export const EXIT_TIMEOUT = 3;

/**
 * Follows the rollout to its end, or until `timeoutMs` has passed, and returns the exit code: 0 succeeded, 1 ended
 * otherwise, 3 still running at the timeout (with a line that says where it stands).
 */
export async function waitForEnd(client: ApiClient, id: string, mode: OutputMode, output: Output, timeoutMs?: number): Promise<number> {
  const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  const status = await followToEnd(client, id, mode, output, 0, signal);
  if (isTerminal(status.phase)) return exitCodeFor(status.phase);
  if (mode === 'json') output.out(`${JSON.stringify(status)}\n`);
  output.err(`timed out after ${formatDurationMs(timeoutMs ?? 0)}: ${standing(status)}\n`);
  return EXIT_TIMEOUT;
}

/** The exit code of a rollout that ended in `phase`: 0 succeeded, 1 any other end. */
export function exitCodeFor(phase: string): 0 | 1 {
  return phase === 'succeeded' ? 0 : 1;
}

/** The status, re-read only when it changed: the conditional GET costs the API next to nothing. */
class StatusReader {
  private etag: string | undefined;
  status: RolloutStatus | undefined;

  constructor(
    private readonly client: ApiClient,
    private readonly id: string,
  ) {}

  /** `fresh` skips the ETag: the final status must be read from the database, not from a cache a moment behind. */
  async refresh(fresh = false): Promise<RolloutStatus> {
    const response = await this.client.request<RolloutStatus>('GET', `/api/v1/rollouts/${this.id}`, {
      headers: this.etag && !fresh ? { 'if-none-match': this.etag } : {},
      accept: [304],
    });
    if (response.status !== 304) {
      this.status = response.body;
      this.etag = response.headers.get('etag') ?? undefined;
    }
    return this.status!;
  }
}

/**
 * Follows the rollout's events until it ends and returns its final status. `after` skips events already shown.
 * Connection drops are retried inside followEvents; they are reported on stderr so a CI log shows the gap. When
 * `signal` aborts (a timeout), returns the status as it is then, not ended. Each time the rollout starts waiting for a
 * person, a line on stderr says so and who may act.
 */
export async function followToEnd(
  client: ApiClient,
  id: string,
  mode: OutputMode,
  output: Output,
  after = 0,
  signal?: AbortSignal,
): Promise<RolloutStatus> {
  const reader = new StatusReader(client, id);
  let drawn = 0;
  let lastEvent: RolloutEvent | undefined;
  const draw = async () => {
    const status = await reader.refresh();
    const lines = progressFrame(status, lastEvent, output.columns);
    output.out(redraw(drawn, lines));
    drawn = lines.length;
  };
  let gateShown: string | null = null;
  const showGate = (status: RolloutStatus) => {
    const gate = personGate(status);
    if (gate !== null && gate !== gateShown && mode !== 'json') {
      if (mode === 'tty') drawn = 0; // the line below moves the cursor; start a fresh frame after it
      output.err(`${gate}\n`);
    }
    gateShown = gate;
  };
  if (mode === 'tty') await draw();
  showGate(await reader.refresh());
  for await (const item of followEvents(client, id, {
    after,
    ...(signal ? { signal } : {}),
    onReconnect: (reason, attempt) => {
      if (mode === 'tty') drawn = 0; // the message below moves the cursor; start a fresh frame after it
      output.err(`connection to the event stream lost (${reason}); reconnecting (attempt ${attempt})\n`);
    },
  })) {
    if (item.kind === 'end') break;
    lastEvent = item.event;
    if (mode === 'json') output.out(`${JSON.stringify(item.event)}\n`);
    else if (mode === 'plain') output.out(`${plainEventLine(item.event)}\n`);
    else await draw();
    if (GATE_EVENTS.has(item.event.type) || gateShown !== null) showGate(await reader.refresh());
  }
  const final = await reader.refresh(true);
  if (signal?.aborted && !isTerminal(final.phase)) return final;
  if (!isTerminal(final.phase)) {
    throw new ApiError(0, { status: 0, code: 'stream_ended', detail: `the event stream ended but the rollout is still ${final.phase}` });
  }
  if (mode === 'tty') await draw();
  if (mode === 'json') output.out(`${JSON.stringify(final)}\n`);
  else output.out(`${outcomeLine(final)}\n`);
  return final;
}
