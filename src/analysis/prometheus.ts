import { toError } from '../errors.ts';
import { redactUrl } from '../redact.ts';
import { FormPoster } from './form-post.ts';
import { PrometheusGate } from './prometheus-gate.ts';
import type { QueryResult } from './result.ts';

export type { QueryResult } from './result.ts';

/** One sample of a range query: epoch milliseconds and the value (NaN and infinities as Prometheus sent them). */
export interface RangeSample {
  at: number;
  value: number;
}

/**
 * Why a query got no answer. `unreachable`: no connection (refused, DNS, reset). `timeout`: no answer in time, ours or
 * Prometheus's own. `bad_query`: Prometheus refused the query, or its answer cannot be judged as one number (several
 * series, a range vector). `server`: anything else on the server's side (5xx, 401, a proxy's HTML page).
 */
export type PrometheusErrorKind = 'unreachable' | 'timeout' | 'bad_query' | 'server';

/** Each request ends as `ok` or as the kind of its error; the engine counts these by cluster. */
export type PrometheusOutcome = 'ok' | PrometheusErrorKind;

export class PrometheusError extends Error {
  override name = 'PrometheusError';
  readonly kind: PrometheusErrorKind;
  /** The HTTP status, when Prometheus answered. */
  readonly status: number | undefined;

  constructor(kind: PrometheusErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
  }
}

export interface PrometheusClientOptions {
  /** Per request, covering connect, evaluation and the body. Also sent to Prometheus so it stops evaluating. */
  timeoutMs?: number;
  /** Called once per request, for metrics. A hook that throws is ignored: metrics must not fail a measurement. */
  onRequest?: (info: { durationMs: number; outcome: PrometheusOutcome }) => void;
  /**
   * The concurrency limit and request sharing of this Prometheus URL (prometheus-gate.ts), shared by the clients of
   * every cluster that names the URL. Absent: a gate of this client's own, with the default limit.
   */
  gate?: PrometheusGate;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const SHOWN_QUERY = 200;

/**
 * A client for Prometheus's instant-query API (also Thanos, Mimir, VictoriaMetrics: anything that serves
 * /api/v1/query). One per Prometheus URL. Credentials in the URL (https://user:password@host) are sent as basic auth
 * and masked in every message, because a URL with them would end up in logs and messages end up in logs and events.
 */
export class PrometheusClient {
  /** The base URL with any password masked: safe to log. */
  readonly url: string;
  private readonly endpoint: string;
  private readonly rangeEndpoint: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly onRequest: PrometheusClientOptions['onRequest'];
  /** The limit and sharing of this client's URL. */
  readonly gate: PrometheusGate;
  private readonly poster: FormPoster;

  constructor(baseUrl: string, options: PrometheusClientOptions = {}) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`a Prometheus URL must be http:// or https://, got ${redactUrl(baseUrl)}`);
    }
    if (url.username !== '' || url.password !== '') {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    url.search = '';
    url.hash = '';
    // Keep a path prefix (Mimir serves under /prometheus), with or without a trailing slash.
    const prefix = url.pathname.replace(/\/+$/, '');
    url.pathname = `${prefix}/api/v1/query`;
    this.endpoint = url.toString();
    url.pathname = `${prefix}/api/v1/query_range`;
    this.rangeEndpoint = url.toString();
    this.poster = new FormPoster(url);
    this.url = redactUrl(baseUrl);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onRequest = options.onRequest;
    this.gate = options.gate ?? new PrometheusGate();
  }

  /**
   * Runs an instant query at `time` (a Date or epoch milliseconds; default: Prometheus's now). Returns one number or
   * `empty` (no series, or NaN). Throws a PrometheusError for everything else; several series are a `bad_query`,
   * because a threshold on several numbers is ambiguous: the query has to aggregate them (sum, max, avg).
   */
  async query(promql: string, time?: Date | number): Promise<QueryResult> {
    // Without a time, Prometheus evaluates at its now: two such queries in flight together ask the same question.
    const at = time === undefined ? '' : String(typeof time === 'number' ? time : time.getTime());
    return this.gate.share(`${this.endpoint}\n${at}\n${promql}`, () => this.measured(() => this.send(promql, time)));
  }

  /**
   * Runs a range query (`/api/v1/query_range`) from `start` to `end` every `stepMs`, for the baseline comparison.
   * Returns the one series' samples in time order, NaN and infinities included (the judge decides what they mean), or
   * none when the query matched nothing. Several series are a `bad_query`, as for `query`.
   */
  async queryRange(promql: string, range: { start: number; end: number; stepMs: number }): Promise<RangeSample[]> {
    const key = `${this.rangeEndpoint}\n${range.start}\n${range.end}\n${range.stepMs}\n${promql}`;
    return this.gate.share(key, () => this.measured(async () => {
      const form = new URLSearchParams({
        query: promql,
        start: String(range.start / 1000),
        end: String(range.end / 1000),
        step: String(range.stepMs / 1000),
      });
      return this.interpretRange(await this.post(this.rangeEndpoint, form, promql), promql);
    }));
  }

  /** Runs one request, classifying its failure as a PrometheusError and reporting its latency and outcome. */
  private async measured<T>(request: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome: PrometheusOutcome = 'ok';
    try {
      return await request();
    } catch (err) {
      const error = err instanceof PrometheusError ? err : this.classify(err);
      outcome = error.kind;
      throw error;
    } finally {
      this.report(performance.now() - started, outcome);
    }
  }

  private async send(promql: string, time: Date | number | undefined): Promise<QueryResult> {
    const form = new URLSearchParams({ query: promql });
    if (time !== undefined) form.set('time', String((typeof time === 'number' ? time : time.getTime()) / 1000));
    return this.interpret(await this.post(this.endpoint, form, promql), promql);
  }

  /** One POST to the query API; the `data` of a successful answer. */
  private async post(endpoint: string, form: URLSearchParams, promql: string): Promise<Record<string, unknown>> {
    form.set('timeout', String(this.timeoutMs / 1000));
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
      // An answer is one number or one short series, a few hundred bytes: gzip (which fetch asked for by default) saved
      // nothing and cost about 5% of the engine's CPU in the scale benchmark's profile (docs/performance.md).
      'Accept-Encoding': 'identity',
    };
    if (this.authorization) headers.Authorization = this.authorization;

    const response = await this.poster.post(endpoint, headers, form.toString(), this.timeoutMs);
    const { text } = response;
    const body = parseJson(text);

    if (response.status < 200 || response.status > 299) throw this.httpError(response.status, body, text, promql);
    if (!isObject(body) || body.status !== 'success' || !isObject(body.data)) {
      throw new PrometheusError('server', `Prometheus at ${this.url} answered something that is not the Prometheus query API: ${snippet(text)}`, {
        status: response.status,
      });
    }
    return body.data;
  }

  private interpretRange(data: Record<string, unknown>, promql: string): RangeSample[] {
    if (data.resultType !== 'matrix') {
      throw new PrometheusError('bad_query', `a range query returned a ${String(data.resultType)}, not a series. Query: ${shortQuery(promql)}`);
    }
    const series = Array.isArray(data.result) ? (data.result as unknown[]) : [];
    if (series.length === 0) return [];
    if (series.length > 1) {
      const shown = series.slice(0, 3).map((one) => formatSeries(isObject(one) ? one.metric : undefined));
      throw new PrometheusError(
        'bad_query',
        `the query returned ${series.length} series (${shown.join(', ')}${series.length > 3 ? ', …' : ''}) but the comparison needs one: aggregate them, e.g. sum(...) or max(...). Query: ${shortQuery(promql)}`,
      );
    }
    const first = series[0];
    const values = isObject(first) && Array.isArray(first.values) ? (first.values as unknown[]) : [];
    return values.map((pair) => {
      const [time, raw] = Array.isArray(pair) ? pair : [];
      if (typeof time !== 'number') throw new PrometheusError('server', `Prometheus at ${this.url} sent a sample without a time: ${snippet(JSON.stringify(pair) ?? '')}`);
      return { at: Math.round(time * 1000), value: toNumber(raw, this.url) };
    });
  }

  private interpret(data: Record<string, unknown>, promql: string): QueryResult {
    switch (data.resultType) {
      case 'scalar':
        return toResult(Array.isArray(data.result) ? data.result[1] : undefined, this.url);
      case 'vector': {
        const series = Array.isArray(data.result) ? (data.result as unknown[]) : [];
        if (series.length === 0) return { kind: 'empty' };
        if (series.length > 1) {
          const shown = series.slice(0, 3).map((sample) => formatSeries(isObject(sample) ? sample.metric : undefined));
          throw new PrometheusError(
            'bad_query',
            `the query returned ${series.length} series (${shown.join(', ')}${series.length > 3 ? ', …' : ''}) but a threshold needs one number: aggregate them, e.g. sum(...) or max(...). Query: ${shortQuery(promql)}`,
          );
        }
        const sample = series[0];
        return toResult(isObject(sample) && Array.isArray(sample.value) ? sample.value[1] : undefined, this.url);
      }
      case 'matrix':
        throw new PrometheusError(
          'bad_query',
          `the query returned a range vector, which cannot be judged: wrap the range selector in a function such as rate(...[{{window}}]). Query: ${shortQuery(promql)}`,
        );
      default:
        throw new PrometheusError('bad_query', `the query returned a ${String(data.resultType)}, not a number. Query: ${shortQuery(promql)}`);
    }
  }

  private httpError(status: number, body: unknown, text: string, promql: string): PrometheusError {
    const errorType = isObject(body) && typeof body.errorType === 'string' ? body.errorType : undefined;
    const detail = isObject(body) && typeof body.error === 'string' ? body.error : snippet(text);
    if (status === 400 || status === 422) {
      return new PrometheusError('bad_query', `Prometheus refused the query: ${detail}. Query: ${shortQuery(promql)}`, { status });
    }
    if (errorType === 'timeout') {
      return new PrometheusError(
        'timeout',
        `Prometheus at ${this.url} gave up evaluating the query (${detail}): simplify the query or shorten its range`,
        { status },
      );
    }
    if (status === 401 || status === 403) {
      return new PrometheusError(
        'server',
        `Prometheus at ${this.url} answered HTTP ${status}: it wants credentials; give them in prometheus.url as https://user:password@host`,
        { status },
      );
    }
    if (status === 404) {
      return new PrometheusError(
        'server',
        `Prometheus at ${this.url} answered HTTP 404 for /api/v1/query: prometheus.url must be the base URL that /api/v1 hangs off (with its prefix, for Mimir or Thanos)`,
        { status },
      );
    }
    return new PrometheusError('server', `Prometheus at ${this.url} answered HTTP ${status}: ${detail}`, { status });
  }

  private classify(err: unknown): PrometheusError {
    const error = toError(err);
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return new PrometheusError(
        'timeout',
        `Prometheus at ${this.url} did not answer within ${this.timeoutMs}ms: check its load, or raise prometheus.timeout for this cluster in the clusters file`,
        { cause: error },
      );
    }
    // A socket's error carries its code itself (node:http); one wrapped by a proxy or fetch carries it in `cause`.
    const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
    const own = (error as { code?: unknown }).code;
    const code = typeof own === 'string' ? own : typeof cause?.code === 'string' ? cause.code : undefined;
    const why = code ? (REASONS[code] ?? code) : typeof cause?.message === 'string' ? cause.message : error.message;
    return new PrometheusError(
      'unreachable',
      `Prometheus at ${this.url} is unreachable (${why}): check that it is running and that prometheus.url for this cluster in the clusters file is right`,
      { cause: error },
    );
  }

  private report(durationMs: number, outcome: PrometheusOutcome): void {
    if (!this.onRequest) return;
    try {
      this.onRequest({ durationMs, outcome });
    } catch {
      // See PrometheusClientOptions.onRequest.
    }
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

/** Prometheus writes sample values as strings, with NaN and ±Inf spelt its own way. */
function toNumber(raw: unknown, url: string): number {
  const value = raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : typeof raw === 'string' ? Number(raw) : Number.NaN;
  if (typeof raw !== 'string' || (Number.isNaN(value) && raw !== 'NaN')) {
    throw new PrometheusError('server', `Prometheus at ${url} sent a sample value that is not a number: ${snippet(JSON.stringify(raw) ?? String(raw))}`);
  }
  return value;
}

function toResult(raw: unknown, url: string): QueryResult {
  const value = toNumber(raw, url);
  return Number.isNaN(value) ? { kind: 'empty' } : { kind: 'value', value };
}

function formatSeries(metric: unknown): string {
  if (!isObject(metric)) return '{}';
  return `{${Object.entries(metric)
    .map(([key, value]) => `${key}="${String(value)}"`)
    .join(', ')}}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function snippet(text: string): string {
  const flat = text.replaceAll(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || '(an empty body)';
}

function shortQuery(promql: string): string {
  const flat = promql.replaceAll(/\s+/g, ' ').trim();
  return flat.length > SHOWN_QUERY ? `${flat.slice(0, SHOWN_QUERY)}…` : flat;
}
