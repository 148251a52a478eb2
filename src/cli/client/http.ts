/**
 * The CLI's HTTP client for the Oleada API. Every answer that is not a success becomes an ApiError carrying the
 * problem+json the API sent, so commands can print its detail and exit 2.
 */
import { toError } from '../../errors.ts';

export interface Problem {
  status: number;
  code: string;
  title?: string;
  detail: string;
  errors?: { path: string; message: string; line?: number; column?: number }[];
  [key: string]: unknown;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** 0 when the API could not be reached at all. */
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail);
  }

  /** Whether trying the same request again later may work: the API was down, busy or restarting. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export interface ClientOptions {
  baseUrl: string;
  token: string | undefined;
  /** Per request, except event streams, which stay open. */
  timeoutMs?: number;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export type RequestBody = { json: unknown } | { text: string; contentType: string };

export class ApiClient {
  readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      accept: 'application/json, application/problem+json',
      ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      ...extra,
    };
  }

  private async send(method: string, path: string, init: { body?: RequestBody; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    const headers = this.headers(init.headers);
    let body: string | undefined;
    if (init.body && 'json' in init.body) {
      body = JSON.stringify(init.body.json);
      headers['content-type'] = 'application/json';
    } else if (init.body) {
      body = init.body.text;
      headers['content-type'] = init.body.contentType;
    }
    const signal = init.signal ?? AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    try {
      return await fetch(`${this.baseUrl}${path}`, { method, headers, signal, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? toError(err).message;
      throw new ApiError(0, {
        status: 0,
        code: 'unreachable',
        detail: `cannot reach the Oleada API at ${this.baseUrl} (${reason}); check OLEADA_URL and that the service runs`,
      });
    }
  }

  /** A request whose answer must be 2xx (or one of `accept`); anything else throws ApiError with the problem. */
  async request<T>(
    method: string,
    path: string,
    init: { body?: RequestBody; headers?: Record<string, string>; accept?: number[] } = {},
  ): Promise<ApiResponse<T>> {
    const response = await this.send(method, path, init);
    const text = await response.text();
    if ((response.status >= 200 && response.status < 300) || init.accept?.includes(response.status)) {
      return { status: response.status, headers: response.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
    }
    throw new ApiError(response.status, toProblem(response.status, text));
  }

  /** Opens the event stream after `afterSeq`; the caller reads and closes the body. */
  async openStream(rolloutId: string, afterSeq: number, signal: AbortSignal): Promise<Response> {
    const response = await this.send('GET', `/api/v1/rollouts/${encodeURIComponent(rolloutId)}/events/stream`, {
      headers: { accept: 'text/event-stream', 'last-event-id': String(afterSeq) },
      signal,
    });
    if (!response.ok) throw new ApiError(response.status, toProblem(response.status, await response.text()));
    return response;
  }
}

function toProblem(status: number, text: string): Problem {
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (parsed && typeof parsed.detail === 'string') return { ...parsed, status, code: parsed.code ?? 'error', detail: parsed.detail };
  } catch {
    // Not JSON: a proxy's page, or a server that is not Oleada.
  }
  return { status, code: 'http_error', detail: `the API answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}` };
}
