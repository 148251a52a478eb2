// The simulation's own control API, beside the Kubernetes paths under /_sim/ and behind the same bearer token:
// faults, run-time behaviours, traffic rate, the write audit, and reset. docs/kube-sim.md lists every endpoint.
import type { AuditEntry } from './audit.ts';
import type { BehaviourSpec } from './behaviours.ts';
import type { FaultSettings } from './faults.ts';
import { isPlainObject } from './objects.ts';

export interface ControlTarget {
  info(): Record<string, unknown>;
  audit(since?: number): AuditEntry[];
  clearAudit(): void;
  faultSettings(): FaultSettings;
  setApiLatency(ms: number): void;
  failFraction(fraction: number): void;
  /** Starts refusing connections; resolves once the listener is closed. */
  refuseFor(ms: number): Promise<void>;
  setBehaviour(key: string, behaviour: BehaviourSpec, clusters?: string[]): void;
  behaviours(): unknown;
  trafficRate(): number;
  setTrafficRate(rate: number): void;
  headerTraffic(): unknown;
  /** Throws an Error saying what is wrong with an invalid list. */
  setHeaderTraffic(classes: unknown): void;
  rejectedRoutes(): { route: string; message: string }[];
  rejectRoutes(message: string | null, route?: { namespace: string; name: string }): void;
  holdWrites(resources: string[]): void;
  reset(): Promise<void>;
}

export interface ControlResponse {
  status: number;
  body: unknown;
  /** Runs after the answer is sent (refusing connections must not cut off its own answer). */
  after?: () => Promise<void>;
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function numberField(body: Record<string, unknown>, query: URLSearchParams, name: string): number | undefined {
  const raw = body[name] ?? query.get(name) ?? undefined;
  if (raw === undefined || raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new ControlError(400, `${name} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

/** The route a route-fault request names: namespace and name together, or neither (every route). */
function routeField(body: Record<string, unknown>, query: URLSearchParams): { namespace: string; name: string } | undefined {
  const namespace = body.namespace ?? query.get('namespace') ?? undefined;
  const name = body.name ?? query.get('name') ?? undefined;
  if (namespace === undefined && name === undefined) return undefined;
  if (typeof namespace !== 'string' || typeof name !== 'string' || namespace === '' || name === '') {
    throw new ControlError(400, 'give a route as both namespace and name (strings), or neither for every HTTPRoute and VirtualService');
  }
  return { namespace, name };
}

export async function handleControl(target: ControlTarget, method: string, path: string, query: URLSearchParams, rawBody: string): Promise<ControlResponse> {
  let body: Record<string, unknown> = {};
  if (rawBody.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (!isPlainObject(parsed)) throw new Error('not an object');
      body = parsed;
    } catch {
      return { status: 400, body: { error: 'the body must be a JSON object' } };
    }
  }
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  try {
    switch (route) {
      case 'GET /_sim':
      case 'GET /_sim/info':
        return { status: 200, body: target.info() };
      case 'GET /_sim/audit': {
        const since = numberField({}, query, 'since');
        return { status: 200, body: { items: target.audit(since) } };
      }
      case 'DELETE /_sim/audit':
        target.clearAudit();
        return { status: 200, body: { items: [] } };
      case 'GET /_sim/faults':
        return { status: 200, body: target.faultSettings() };
      case 'POST /_sim/faults':
      case 'PUT /_sim/faults':
      case 'PATCH /_sim/faults': {
        const latency = numberField(body, query, 'apiLatencyMs');
        const fraction = numberField(body, query, 'failFraction');
        if (latency !== undefined) target.setApiLatency(latency);
        if (fraction !== undefined) target.failFraction(fraction);
        return { status: 200, body: target.faultSettings() };
      }
      case 'POST /_sim/faults/refuse': {
        const ms = numberField(body, query, 'ms');
        if (ms === undefined || ms <= 0) throw new ControlError(400, 'ms (how long to refuse connections, in milliseconds) is required and must be > 0');
        return { status: 202, body: { refusingForMs: ms }, after: () => target.refuseFor(ms) };
      }
      case 'GET /_sim/behaviours':
        return { status: 200, body: target.behaviours() };
      case 'POST /_sim/behaviours':
      case 'PUT /_sim/behaviours': {
        const key = body.version ?? body.key ?? body.tag;
        if (typeof key !== 'string' || key === '') throw new ControlError(400, 'version (a version label, image tag or image) is required');
        const behaviour = body.behaviour;
        if (typeof behaviour !== 'string' && !isPlainObject(behaviour)) throw new ControlError(400, 'behaviour is required: a name (healthy, errors, slow, crash, pullfail) or an object such as {"errors": 0.3}');
        const clusters = Array.isArray(body.clusters) ? body.clusters.map(String) : undefined;
        target.setBehaviour(key, behaviour as BehaviourSpec, clusters);
        return { status: 200, body: target.behaviours() };
      }
      case 'POST /_sim/faults/routes': {
        const message = body.message;
        if (typeof message !== 'string' || message.trim() === '') {
          throw new ControlError(400, 'message (the text of the Accepted=False condition, e.g. "listener https does not allow routes from namespace shop") is required');
        }
        target.rejectRoutes(message, routeField(body, query));
        return { status: 200, body: { rejected: target.rejectedRoutes() } };
      }
      case 'DELETE /_sim/faults/routes':
        target.rejectRoutes(null, routeField(body, query));
        return { status: 200, body: { rejected: target.rejectedRoutes() } };
      case 'POST /_sim/faults/hold': {
        const resources = body.resources;
        if (!Array.isArray(resources) || resources.length === 0 || !resources.every((r) => typeof r === 'string' && r !== '')) {
          throw new ControlError(400, 'resources is required: the resources whose writes to hold, e.g. ["services"] or ["httproutes.gateway.networking.k8s.io"]');
        }
        target.holdWrites(resources as string[]);
        return { status: 200, body: target.faultSettings() };
      }
      case 'DELETE /_sim/faults/hold':
        target.holdWrites([]);
        return { status: 200, body: target.faultSettings() };
      case 'GET /_sim/traffic':
        return { status: 200, body: { rate: target.trafficRate(), headerTraffic: target.headerTraffic() } };
      case 'POST /_sim/traffic':
      case 'PUT /_sim/traffic': {
        const rate = numberField(body, query, 'rate');
        if (rate === undefined && body.headerTraffic === undefined) {
          throw new ControlError(400, 'give rate (requests per second per Service), headerTraffic (a list of { name, share, headers }), or both');
        }
        // Both are checked before either is applied, so a bad request changes nothing.
        if (rate !== undefined && !(rate >= 0)) throw new ControlError(400, `rate must be a number of requests per second >= 0, got ${rate}`);
        if (body.headerTraffic !== undefined) target.setHeaderTraffic(body.headerTraffic);
        if (rate !== undefined) target.setTrafficRate(rate);
        return { status: 200, body: { rate: target.trafficRate(), headerTraffic: target.headerTraffic() } };
      }
      case 'POST /_sim/reset':
        await target.reset();
        return { status: 200, body: target.faultSettings() };
      default:
        return { status: 404, body: { error: `no control endpoint ${route}; see docs/kube-sim.md for the list` } };
    }
  } catch (err) {
    if (err instanceof ControlError) return { status: err.status, body: { error: err.message } };
    return { status: 400, body: { error: (err as Error).message } };
  }
}
