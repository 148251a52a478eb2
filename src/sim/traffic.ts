// Simulated app traffic. Every Service with a selector receives `rate` requests per second, split evenly across its
// ready pods, unless an HTTPRoute or a VirtualService points at it: then the route receives the traffic and splits it
// by its rules and backend weights (route-matching.ts picks the rule). A configurable share of the requests may carry
// headers (a tester class with `X-Canary: 1`, say); header routes send those first, as the real data planes do, and
// their metrics carry `traffic="<class>"` so that Prometheus tells them apart. Each request's outcome follows the
// behaviour of the version of the pod that serves it. Counting is deterministic: fractional requests carry over from
// tick to tick, and so do fractional errors, so a version failing 50 % of requests shows an error ratio of 0.5 to
// within one request.
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { Behaviour } from './behaviours.ts';
import { isPlainObject, type KubeObject } from './objects.ts';
import { isPodReady } from './replicasets.ts';
import { httpRouteRules, virtualServiceEntries, type RequestHeaders } from './route-matching.ts';
import { specOf, type ClusterRuntime } from './runtime.ts';
import { fromLabelSelectorObject, matchesLabels, type LabelSelector } from './selectors.ts';
import type { StoreEvent } from './store.ts';
import type { SeriesLabels, TrafficMetrics } from './metrics.ts';

/** Spread of healthy latencies around the 40 ms median, cycled deterministically: p50 40 ms, p90 ~72 ms, p99 100 ms. */
const LATENCY_FACTORS = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.2, 1.3, 1.5, 1.8, 2.5];
const BASE_LATENCY_SECONDS = 0.04;

interface Backend {
  /** Share of the request class's traffic at this source, 0..1. */
  share: number;
  namespace: string;
  selector: LabelSelector;
  /** Extra labels the pods must have (an Istio subset). */
  subset?: Record<string, string>;
  /** Ready pods, found once per plan (the plan is rebuilt on every pod change). */
  pods?: KubeObject[];
}

/** Where one class of requests sent to a source goes. */
interface ClassRoute {
  traffic: RequestClass;
  backends: Backend[];
}

interface Source {
  id: string;
  classes: ClassRoute[];
}

/** A share of every source's requests that carries headers, e.g. testers sending `X-Canary: 1`. */
export const HeaderTrafficSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,62}$', description: 'the value of the traffic label on these requests\' metrics' }),
    share: Type.Number({ minimum: 0, maximum: 1, description: 'fraction of each Service\'s or route\'s requests' }),
    headers: Type.Record(Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }), Type.String(), { minProperties: 1 }),
  },
  { additionalProperties: false },
);
export type HeaderTraffic = Static<typeof HeaderTrafficSchema>;
export const HeaderTrafficListSchema = Type.Array(HeaderTrafficSchema, { maxItems: 10 });

/** The requests of one class: the plain ones (name '', no headers) or a header-carrying share. */
interface RequestClass {
  name: string;
  share: number;
  headers: RequestHeaders;
}

/** Checks a header traffic list; throws an Error saying what is wrong. */
export function checkHeaderTraffic(value: unknown): HeaderTraffic[] {
  if (!Value.Check(HeaderTrafficListSchema, value)) {
    const first = [...Value.Errors(HeaderTrafficListSchema, value)][0];
    const where = first ? `${first.instancePath || '/'}: ${first.message}` : 'not a list';
    throw new Error(`headerTraffic must be a list of { name, share, headers }, e.g. [{"name":"tester","share":0.2,"headers":{"X-Canary":"1"}}] (${where})`);
  }
  const names = value.map((t) => t.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`headerTraffic names each class once; "${twice}" appears twice`);
  const total = value.reduce((sum, t) => sum + t.share, 0);
  if (total > 1 + 1e-9) throw new Error(`headerTraffic shares add up to ${total}, more than 1 (all requests)`);
  return value.map((t) => ({ ...t, headers: { ...t.headers } }));
}

export interface TrafficOptions {
  /** Requests per second per Service (or per route). */
  rate: number;
  /** How often counters move, in real milliseconds; at most 250 so that a 1 s scrape sees smooth rates. */
  intervalMs?: number;
  /** Shares of the requests that carry headers; the rest carry none. */
  headerTraffic?: HeaderTraffic[];
}

/** A Service annotated with this set to "false" gets no traffic of its own, only what routes send it (all via a gateway). */
export const DIRECT_TRAFFIC_ANNOTATION = 'kube-sim.oleada.dev/direct-traffic';

const ROUTE_KEYS = ['httproutes.gateway.networking.k8s.io', 'virtualservices.networking.istio.io', 'destinationrules.networking.istio.io'];

export class TrafficSimulator {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private rate: number;
  private readonly intervalMs: number;
  private headerTraffic: HeaderTraffic[];
  private sources: Source[] | undefined;
  /** Fractional requests owed, by source, class and pod. */
  private readonly requestCarry = new Map<string, number>();
  /** Fractional errors owed, by series. */
  private readonly errorCarry = new Map<string, number>();
  private readonly latencyStep = new Map<string, number>();
  private readonly behaviourCache = new Map<string, { version: number; behaviour: Behaviour }>();

  constructor(
    private readonly rt: ClusterRuntime,
    private readonly behaviourOf: (pod: KubeObject) => Behaviour,
    private readonly metrics: TrafficMetrics,
    options: TrafficOptions,
  ) {
    this.rate = options.rate;
    this.last = rt.now();
    this.intervalMs = Math.min(options.intervalMs ?? 100, 250);
    this.headerTraffic = checkHeaderTraffic(options.headerTraffic ?? []);
  }

  start(): void {
    this.last = this.rt.now();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  setRate(rate: number): void {
    if (!(rate >= 0)) throw new Error(`traffic rate must be a number of requests per second >= 0, got ${rate}`);
    this.rate = rate;
  }

  get ratePerSecond(): number {
    return this.rate;
  }

  /** Replaces the header-carrying shares of the requests (an empty list: no request carries headers). */
  setHeaderTraffic(classes: unknown): void {
    const checked = checkHeaderTraffic(classes);
    this.tick();
    this.headerTraffic = checked;
    this.sources = undefined;
  }

  get headerShares(): HeaderTraffic[] {
    return this.headerTraffic.map((t) => ({ ...t, headers: { ...t.headers } }));
  }

  observe(event: StoreEvent): void {
    const { pods, services } = this.rt.types;
    if (event.resource === pods || event.resource === services || ROUTE_KEYS.includes(event.resource.key)) this.sources = undefined;
    if (event.type === 'DELETED' && event.resource === pods) this.behaviourCache.delete(event.object.metadata.uid!);
  }

  /** Moves the counters on by the real time elapsed since the last tick. */
  tick(now = this.rt.now()): void {
    if (now <= this.last) return;
    const seconds = (now - this.last) / 1000;
    this.last = now;
    if (this.rate === 0) return;
    this.sources ??= this.plan();
    for (const source of this.sources) {
      for (const { traffic, backends } of source.classes) {
        const expected = this.rate * seconds * traffic.share;
        for (const backend of backends) {
          if (backend.share <= 0) continue;
          const pods = (backend.pods ??= this.readyPods(backend));
          if (pods.length === 0) continue;
          const perPod = (expected * backend.share) / pods.length;
          for (const pod of pods) {
            const key = `${source.id}\u0000${traffic.name}\u0000${pod.metadata.uid}`;
            const owed = (this.requestCarry.get(key) ?? 0) + perPod;
            const whole = Math.floor(owed + 1e-9);
            this.requestCarry.set(key, owed - whole);
            if (whole > 0) this.serve(pod, whole, traffic.name);
          }
        }
      }
    }
  }

  private serve(pod: KubeObject, count: number, traffic: string): void {
    const labels: SeriesLabels = {
      namespace: pod.metadata.namespace ?? '',
      app: pod.metadata.labels?.app ?? '',
      version: pod.metadata.labels?.version ?? '',
      ...(traffic === '' ? {} : { traffic }),
    };
    const behaviour = this.cachedBehaviour(pod);
    const seriesKey = `${labels.namespace}\u0000${labels.app}\u0000${labels.version}\u0000${traffic}`;
    const owed = (this.errorCarry.get(seriesKey) ?? 0) + count * behaviour.errors;
    const errors = Math.min(count, Math.floor(owed + 1e-9));
    this.errorCarry.set(seriesKey, owed - errors);
    this.metrics.count(labels, '500', errors);
    this.metrics.count(labels, '200', count - errors);
    let step = this.latencyStep.get(seriesKey) ?? 0;
    for (let i = 0; i < count; i++) {
      const factor = LATENCY_FACTORS[(step * 7) % LATENCY_FACTORS.length]!;
      step++;
      this.metrics.observe(labels, BASE_LATENCY_SECONDS * factor + behaviour.latencyMs / 1000);
    }
    this.latencyStep.set(seriesKey, step);
  }

  private cachedBehaviour(pod: KubeObject): Behaviour {
    const version = this.rt.behaviours.version;
    const cached = this.behaviourCache.get(pod.metadata.uid!);
    if (cached && cached.version === version) return cached.behaviour;
    const behaviour = this.behaviourOf(pod);
    this.behaviourCache.set(pod.metadata.uid!, { version, behaviour });
    return behaviour;
  }

  private readyPods(backend: Backend): KubeObject[] {
    const result: KubeObject[] = [];
    for (const pod of this.rt.store.each(this.rt.types.pods, backend.namespace)) {
      if (pod.metadata.deletionTimestamp || !isPodReady(pod)) continue;
      if (!matchesLabels(backend.selector, pod.metadata.labels)) continue;
      if (backend.subset && !Object.entries(backend.subset).every(([k, v]) => pod.metadata.labels?.[k] === v)) continue;
      result.push(pod);
    }
    return result;
  }

  /** The request classes: the header-carrying shares, and the plain requests that are left. */
  private classes(): RequestClass[] {
    const withHeaders = this.headerTraffic.map((t) => ({
      name: t.name,
      share: t.share,
      headers: Object.fromEntries(Object.entries(t.headers).map(([k, v]) => [k.toLowerCase(), v])),
    }));
    const plain = Math.max(0, 1 - withHeaders.reduce((sum, t) => sum + t.share, 0));
    return [{ name: '', share: plain, headers: {} }, ...withHeaders].filter((c) => c.share > 0);
  }

  /** Works out who receives traffic: routes first, then the Services no route points at. */
  private plan(): Source[] {
    const { store, types, resources } = this.rt;
    const classes = this.classes();
    const sources: Source[] = [];
    const routed = new Set<string>();
    const serviceSelector = (namespace: string, name: string): LabelSelector | undefined => {
      const svc = store.get(types.services, namespace, name);
      const selector = svc ? specOf(svc).selector : undefined;
      if (!isPlainObject(selector) || Object.keys(selector).length === 0) return undefined;
      return fromLabelSelectorObject({ matchLabels: selector });
    };

    const httpRoutes = resources.byKey(ROUTE_KEYS[0]!);
    if (httpRoutes) {
      for (const route of store.each(httpRoutes)) {
        const namespace = route.metadata.namespace ?? '';
        const rules = Array.isArray(specOf(route).rules) ? (specOf(route).rules as unknown[]).filter(isPlainObject) : [];
        const ruleBackends = rules.map((rule) => {
          const refs = Array.isArray(rule.backendRefs) ? rule.backendRefs.filter(isPlainObject) : [];
          const services = refs.filter((ref) => (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '');
          const total = services.reduce((sum, ref) => sum + (typeof ref.weight === 'number' ? ref.weight : 1), 0);
          const backends: Backend[] = [];
          for (const ref of services) {
            const ns = typeof ref.namespace === 'string' ? ref.namespace : namespace;
            const name = String(ref.name);
            routed.add(`${ns}/${name}`);
            const selector = serviceSelector(ns, name);
            const weight = typeof ref.weight === 'number' ? ref.weight : 1;
            if (selector && total > 0) backends.push({ share: weight / total, namespace: ns, selector });
          }
          return backends;
        });
        const perClass = classes.map((traffic) => ({ traffic, backends: spread(httpRouteRules(rules, traffic.headers), ruleBackends) }));
        sources.push({ id: `httproute/${namespace}/${route.metadata.name}`, classes: perClass });
      }
    }

    const virtualServices = resources.byKey(ROUTE_KEYS[1]!);
    const destinationRules = resources.byKey(ROUTE_KEYS[2]!);
    if (virtualServices) {
      for (const vs of store.each(virtualServices)) {
        const namespace = vs.metadata.namespace ?? '';
        const http = Array.isArray(specOf(vs).http) ? (specOf(vs).http as unknown[]).filter(isPlainObject) : [];
        const entryBackends = http.map((entry) => {
          const routes = Array.isArray(entry.route) ? entry.route.filter(isPlainObject) : [];
          const weightOf = (r: Record<string, unknown>) => (typeof r.weight === 'number' ? r.weight : routes.length === 1 ? 100 : 0);
          const total = routes.reduce((sum, r) => sum + weightOf(r), 0);
          const backends: Backend[] = [];
          for (const r of routes) {
            const destination = isPlainObject(r.destination) ? r.destination : {};
            const [name, ns = namespace] = String(destination.host ?? '').split('.');
            if (!name) continue;
            routed.add(`${ns}/${name}`);
            const selector = serviceSelector(ns, name);
            if (!selector || total <= 0) continue;
            const subset = typeof destination.subset === 'string' && destinationRules ? this.subsetLabels(destinationRules, ns, name, destination.subset) : undefined;
            if (typeof destination.subset === 'string' && !subset) continue;
            backends.push({ share: weightOf(r) / total, namespace: ns, selector, subset });
          }
          return backends;
        });
        const perClass = classes.map((traffic) => ({ traffic, backends: spread(virtualServiceEntries(http, traffic.headers), entryBackends) }));
        sources.push({ id: `virtualservice/${namespace}/${vs.metadata.name}`, classes: perClass });
      }
    }

    for (const svc of store.each(types.services)) {
      const namespace = svc.metadata.namespace ?? '';
      if (routed.has(`${namespace}/${svc.metadata.name}`) || svc.metadata.annotations?.[DIRECT_TRAFFIC_ANNOTATION] === 'false') continue;
      const selector = serviceSelector(namespace, svc.metadata.name!);
      if (selector) sources.push({ id: `service/${namespace}/${svc.metadata.name}`, classes: classes.map((traffic) => ({ traffic, backends: [{ share: 1, namespace, selector }] })) });
    }
    return sources;
  }

  private subsetLabels(type: NonNullable<ReturnType<ClusterRuntime['resources']['byKey']>>, namespace: string, service: string, subset: string): Record<string, string> | undefined {
    for (const rule of this.rt.store.each(type, namespace)) {
      const host = String(specOf(rule).host ?? '').split('.')[0];
      if (host !== service) continue;
      const subsets = Array.isArray(specOf(rule).subsets) ? (specOf(rule).subsets as unknown[]).filter(isPlainObject) : [];
      const found = subsets.find((s) => s.name === subset);
      if (found && isPlainObject(found.labels)) return found.labels as Record<string, string>;
    }
    return undefined;
  }
}

/** The backends of the rules chosen for a class, one per part of the app, each part taking an equal share. */
function spread(chosen: number[], ruleBackends: Backend[][]): Backend[] {
  return chosen.flatMap((rule) => (ruleBackends[rule] ?? []).map((b) => ({ ...b, share: b.share / chosen.length })));
}
