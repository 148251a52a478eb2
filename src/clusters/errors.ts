import { ApiException } from '@kubernetes/client-node';
import { toError } from '../errors.ts';

/**
 * What a caller can do about a failed Kubernetes call:
 * - `retryable`: the cluster or the network had a bad moment; the next tick tries again.
 * - `conflict`: someone else wrote the object first; read it again and reapply.
 * - `final`: trying again cannot help until a person changes something (the rollout file, the kubeconfig, RBAC).
 */
export type KubeErrorKind = 'retryable' | 'conflict' | 'final';

/** Why a call failed, finer than the kind; also the `outcome` label of the request metric. */
export type KubeErrorReason =
  | 'timeout'
  | 'unreachable'
  | 'server_error'
  | 'throttled'
  | 'conflict'
  | 'not_found'
  | 'forbidden'
  | 'unauthorized'
  | 'invalid'
  | 'bad_request'
  | 'tls'
  | 'unknown';

export class KubeError extends Error {
  override name = 'KubeError';
  readonly kind: KubeErrorKind;
  readonly reason: KubeErrorReason;
  readonly cluster: string;
  readonly status?: number;

  constructor(
    init: { kind: KubeErrorKind; reason: KubeErrorReason; cluster: string; status?: number },
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = init.kind;
    this.reason = init.reason;
    this.cluster = init.cluster;
    if (init.status !== undefined) this.status = init.status;
  }
}

export function isKubeError(value: unknown): value is KubeError {
  return value instanceof KubeError;
}

/** Thrown by the client's own timer, because the client-node call takes no deadline of its own. */
export class KubeTimeoutError extends Error {
  override name = 'KubeTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

/**
 * The call that failed, as much as is known. With it the message can name the object, the namespace and the kubeconfig
 * context, which is what a person needs to fix a 404 or a 403.
 */
export interface KubeOperation {
  /** get, list, create, patch, apply, delete, version... */
  verb: string;
  /** Plural resource with its group, as Kubernetes prints it: `deployments.apps`, `pods`. */
  resource: string;
  namespace?: string;
  name?: string;
  /** The kubeconfig context whose credentials made the call. */
  context?: string;
  /** Where to look when the object is missing, e.g. "check workload.name and namespace in the rollout file". */
  notFoundHint?: string;
  /** The API server URL, named when it cannot be reached. */
  server?: string;
}

/** The parts of a Kubernetes Status object this module reads. */
interface KubeStatus {
  reason?: string;
  message?: string;
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  // DNS: a resolver hiccup is common and passes; a misspelt host keeps failing and the engine's deadline catches it.
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/**
 * Sorts any error from a Kubernetes call into retryable / conflict / final and words a message a person can act on.
 * `what` is either a short description of the call or a KubeOperation, which gives better messages.
 */
export function classifyKubeError(err: unknown, cluster: string, what: string | KubeOperation): KubeError {
  if (err instanceof KubeError) return err;
  const op: KubeOperation = typeof what === 'string' ? { verb: '', resource: what } : what;
  const call = describeCall(op);
  const error = toError(err);

  if (err instanceof KubeTimeoutError || isAbort(error)) {
    const ms = err instanceof KubeTimeoutError ? ` after ${err.timeoutMs} ms` : '';
    return new KubeError(
      { kind: 'retryable', reason: 'timeout', cluster },
      `${cluster}: ${call} timed out${ms}: the API server is slow or unreachable; it will be tried again`,
      { cause: err },
    );
  }

  const status = httpStatus(err);
  if (status !== undefined) return classifyStatus(status, readStatus(err), err, cluster, op, call);

  const code = systemCode(error);
  if (code !== undefined && TLS_CODES.has(code)) {
    return new KubeError(
      { kind: 'final', reason: 'tls', cluster },
      `${cluster}: TLS verification of the API server${serverHint(op)} failed (${code}) on ${call}: check certificate-authority-data and the server address in kubeconfig${contextHint(op)}`,
      { cause: err },
    );
  }
  if ((code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) || isNetworkError(error)) {
    return new KubeError(
      { kind: 'retryable', reason: 'unreachable', cluster },
      `${cluster}: cannot reach the API server${serverHint(op)} (${code ?? error.message}) on ${call}; it will be tried again`,
      { cause: err },
    );
  }
  // Anything else is a bug or a broken kubeconfig (no user, unreadable key file): retrying the same call cannot help.
  return new KubeError({ kind: 'final', reason: 'unknown', cluster }, `${cluster}: ${call} failed: ${error.message}`, {
    cause: err,
  });
}

function classifyStatus(
  status: number,
  body: KubeStatus,
  cause: unknown,
  cluster: string,
  op: KubeOperation,
  call: string,
): KubeError {
  const said = body.message ? `: ${body.message}` : '';
  const make = (kind: KubeErrorKind, reason: KubeErrorReason, message: string): KubeError =>
    new KubeError({ kind, reason, cluster, status }, `${cluster}: ${message}`, { cause });

  if (status === 409) {
    return make('conflict', 'conflict', `conflict on ${call}${said}: read the object again and reapply`);
  }
  if (status === 429) {
    return make('retryable', 'throttled', `the API server is throttling requests (429) on ${call}; it will be tried again`);
  }
  if (status === 408 || status >= 500) {
    return make('retryable', 'server_error', `the API server answered ${status} to ${call}${said}; it will be tried again`);
  }
  if (status === 404) {
    const object = op.name ? `${op.resource} "${op.name}"` : op.resource;
    const where = op.namespace ? ` in namespace ${op.namespace}` : '';
    const hint = op.notFoundHint ? `: ${op.notFoundHint}` : '';
    return make('final', 'not_found', `${object} not found${where}${hint}`);
  }
  if (status === 403) {
    const credentials = op.context ? `the credentials in kubeconfig context ${op.context}` : 'the kubeconfig credentials';
    const action = op.verb ? `${op.verb} ${op.resource}` : `access ${op.resource}`;
    const where = op.namespace ? ` in ${op.namespace}` : '';
    return make('final', 'forbidden', `forbidden: ${credentials} cannot ${action}${where}; grant it in RBAC${said}`);
  }
  if (status === 401) {
    const which = op.context ? ` of kubeconfig context ${op.context}` : '';
    return make('final', 'unauthorized', `unauthorized: the API server rejected the credentials${which}; renew the token or certificate`);
  }
  if (status === 422) {
    return make('final', 'invalid', `the API server rejected ${call} as invalid${said}`);
  }
  return make('final', 'bad_request', `the API server refused ${call} with ${status}${said}`);
}

function describeCall(op: KubeOperation): string {
  const object = op.name ? `${op.resource} "${op.name}"` : op.resource;
  const where = op.namespace ? ` in namespace ${op.namespace}` : '';
  return `${op.verb ? `${op.verb} ` : ''}${object}${where}`;
}

function contextHint(op: KubeOperation): string {
  return op.context ? ` context ${op.context}` : '';
}

/** " at https://host:6443", without any user:password a URL might carry. */
function serverHint(op: KubeOperation): string {
  if (!op.server) return '';
  try {
    const url = new URL(op.server);
    url.username = '';
    url.password = '';
    return ` at ${url.origin}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return '';
  }
}

export function httpStatus(err: unknown): number | undefined {
  if (err instanceof ApiException && typeof err.code === 'number') return err.code;
  // Also accept look-alikes (another copy of client-node, or a hand-made error carrying a status).
  if (typeof err === 'object' && err !== null) {
    const candidate = (err as { code?: unknown; statusCode?: unknown }).statusCode ?? (err as { code?: unknown }).code;
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  return undefined;
}

/** client-node keeps the response body as the raw string; the Status object in it carries the server's words. */
function readStatus(err: unknown): KubeStatus {
  const body = (err as { body?: unknown }).body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim().slice(0, 500) } : {};
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { reason, message } = parsed as { reason?: unknown; message?: unknown };
  return {
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

/** The errno-style code of a network error, looking through `cause` chains (node-fetch and undici nest them). */
function systemCode(error: Error): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isAbort(error: Error): boolean {
  return error.name === 'AbortError';
}

function isNetworkError(error: Error): boolean {
  // node-fetch reports socket failures without an errno as FetchError of type "system"; "socket hang up" is one.
  return (
    (error.name === 'FetchError' && (error as { type?: unknown }).type === 'system') || /socket hang up/i.test(error.message)
  );
}
