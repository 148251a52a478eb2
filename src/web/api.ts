/**
 * The one client the dashboard talks to the API through: it sends the bearer token, remembers each answer's ETag
 * and sends it back as If-None-Match (an unchanged rollout costs a 304), sends If-Match with commands, and tells
 * listeners whether the API answers at all.
 */
const TOKEN_KEY = 'oleada.token';

/** The token lives in sessionStorage: gone with the tab, never in a URL. */
export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** A problem+json answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The API did not answer (network down, proxy error, the process restarting). */
export class Unreachable extends Error {}

export interface Answer<T> {
  body: T;
  etag: string | null;
  /** False when the server answered 304 and `body` is the remembered one. */
  changed: boolean;
}

type Listener = () => void;

class ApiClient {
  private readonly cache = new Map<string, { etag: string; body: unknown }>();
  private readonly listeners = new Set<Listener>();
  reachable = true;
  /** Called when the token is refused (401): the app goes back to the sign-in page. */
  onUnauthorized: (message: string) => void = () => {};

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setReachable(reachable: boolean): void {
    if (this.reachable === reachable) return;
    this.reachable = reachable;
    for (const listener of this.listeners) listener();
  }

  /** `judge`: whether this request's failure says the API is down (a broken stream alone does not: polls decide). */
  private async send(path: string, init: RequestInit, token = session.token(), judge = true): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    if (token) headers.set('authorization', `Bearer ${token}`);
    let response: Response;
    try {
      response = await fetch(path, { ...init, headers, cache: 'no-store' });
    } catch (err) {
      // Closed by this page (a stream it no longer wants): the API said nothing about itself.
      if (init.signal?.aborted) throw err;
      if (judge) this.setReachable(false);
      throw new Unreachable('the Oleada API does not answer');
    }
    // A proxy in front of a restarting API answers these; the API itself never does for these routes.
    if (response.status === 502 || response.status === 503 || response.status === 504) {
      if (judge) this.setReachable(false);
      throw new Unreachable(`the Oleada API answered ${response.status}`);
    }
    if (judge) this.setReachable(true);
    return response;
  }

  private async fail(response: Response): Promise<never> {
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    const detail = typeof body.detail === 'string' ? body.detail : `the API answered ${response.status}`;
    const error = new ApiError(response.status, typeof body.code === 'string' ? body.code : 'error', detail, body);
    if (response.status === 401) this.onUnauthorized(detail);
    throw error;
  }

  /** A GET that revalidates what it saw last with If-None-Match. */
  async get<T>(path: string, token?: string): Promise<Answer<T>> {
    const cached = this.cache.get(path);
    const response = await this.send(path, { headers: cached ? { 'if-none-match': cached.etag } : {} }, token);
    if (response.status === 304 && cached) return { body: cached.body as T, etag: cached.etag, changed: false };
    if (!response.ok) return this.fail(response);
    const body = (await response.json()) as T;
    const etag = response.headers.get('etag');
    if (etag) this.cache.set(path, { etag, body });
    return { body, etag, changed: true };
  }

  /**
   * Opens a Server-Sent Events stream. Through fetch, not EventSource: EventSource cannot send the bearer token, and
   * the token never goes into a URL. The caller reads the body and closes it with `signal`.
   */
  async stream(path: string, signal: AbortSignal): Promise<Response> {
    const response = await this.send(path, { headers: { accept: 'text/event-stream' }, signal }, session.token(), false);
    if (!response.ok || !response.body) return this.fail(response);
    return response;
  }

  /**
   * A command, guarded by the ETag of the rollout as the page showed it: the API refuses it (412) when the rollout
   * has moved on since, instead of applying a decision made on old information.
   */
  async command(rolloutId: string, type: CommandType, body: CommandBody, etag: string | null): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (etag) headers['if-match'] = etag;
    const response = await this.send(`/api/v1/rollouts/${encodeURIComponent(rolloutId)}/${type}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    if (!response.ok) return this.fail(response);
    return response.json();
  }

  forget(): void {
    this.cache.clear();
  }
}

export type CommandType = 'approve' | 'promote' | 'pause' | 'resume' | 'abort';
export interface CommandBody {
  reason?: string;
  cluster?: string;
  wave?: string;
  full?: boolean;
  /** The revision the command is meant for; the API refuses it (412) when the rollout is at another. Like If-Match. */
  revision?: number;
}

export const api = new ApiClient();
