/**
 * Rewriting a user's Istio VirtualService (networking.istio.io/v1) for a canary, as pure functions from the observed
 * object to the desired one, so that every rule of it is unit-tested without a cluster.
 *
 * Each `http` route whose destinations include the app's Service gets that destination split in two, hosts
 * `<service>-stable` and `<service>-canary` (written the way the user wrote the host: short, `name.ns` or the FQDN),
 * weighted so that the canary gets w% of what the Service got. No DestinationRule subsets are needed: the two Services
 * select the versions apart (route-services.ts), so a `subset` on the Service's destination is dropped. A header route
 * adds, before each such route, a copy whose matches also require the headers and whose only destination is the
 * canary. Matches, retries, timeouts, rewrites, fault injection, mirrors, the other routes and the other fields are kept
 * as the user wrote them. The spec before the first rewrite is kept in an annotation (route-object.ts).
 */
import { canaryServiceName, stableServiceName } from './route-services.ts';
import {
  isObject,
  list,
  originalSpec,
  splitWeight,
  readRoute,
  routeName,
  weightProblem,
  writePatch,
  type Json,
  type RouteDialect,
  type RouteObject,
  type RouteReading,
  type RouteWanted,
  type Rewrite,
} from './route-object.ts';
import type { HeaderMatch } from './types.ts';

/** The Service a destination host names, as Istio resolves it: a short name in the VirtualService's namespace. */
function hostService(host: unknown, namespace: string): { name: string; namespace: string } | null {
  if (typeof host !== 'string' || host.includes('*')) return null;
  const [name, ns = namespace, ...rest] = host.split('.');
  const suffix = rest.join('.');
  if (!name || !(suffix === '' || suffix === 'svc' || suffix.startsWith('svc.'))) return null;
  return { name, namespace: ns };
}

function pointsAt(route: Json, service: string, namespace: string): boolean {
  const destination = isObject(route.destination) ? route.destination : {};
  const named = hostService(destination.host, namespace);
  return named !== null && named.name === service && named.namespace === namespace;
}

/** The host with its first label replaced: `checkout.shop.svc.cluster.local` -> `checkout-canary.shop.svc.cluster.local`. */
function renamed(host: unknown, name: string): string {
  const text = String(host);
  const dot = text.indexOf('.');
  return dot === -1 ? name : `${name}${text.slice(dot)}`;
}

/** A destination's weight as Istio reads it: a lone destination without one gets everything. */
function weightOf(route: Json, routes: readonly Json[]): number {
  return typeof route.weight === 'number' ? route.weight : routes.length === 1 ? 100 : 0;
}

/** Istio matches headers by exact value, prefix or RE2 regex, under lowercase header names. */
export function istioHeaders(match: readonly HeaderMatch[]): Json {
  return Object.fromEntries(
    match.map((m) => [m.header.toLowerCase(), m.exact !== undefined ? { exact: m.exact } : m.prefix !== undefined ? { prefix: m.prefix } : { regex: m.regex! }]),
  );
}

function describeRoute(entry: Json, index: number): string {
  return typeof entry.name === 'string' ? `http route ${entry.name}` : `http[${index}]`;
}

/** The VirtualService's spec carrying `wanted`, computed from its original spec. */
export function desiredVirtualServiceSpec(vs: RouteObject, wanted: RouteWanted): Rewrite {
  const namespace = vs.metadata?.namespace ?? '';
  const original = originalSpec(vs);
  const http = list(original.http);
  const targets = (entry: Json) => list(entry.route).some((r) => pointsAt(r, wanted.service, namespace));
  if (!http.some(targets)) {
    return {
      ok: false,
      problem: `VirtualService ${routeName(vs)} has no http route whose destination host is Service ${wanted.service} (${wanted.service}.${namespace}.svc.cluster.local): point an http route at it, or set traffic.service to the Service the VirtualService routes to`,
    };
  }
  const badWeight = weightProblem('VirtualService', wanted.weight);
  if (badWeight) return { ok: false, problem: badWeight };
  const out: Json[] = [];
  for (const [index, entry] of http.entries()) {
    if (!targets(entry)) {
      out.push(entry);
      continue;
    }
    const routes = list(entry.route);
    const split: Json[] = [];
    let canaryRoute: Json | undefined;
    for (const r of routes) {
      if (!pointsAt(r, wanted.service, namespace)) {
        split.push(r);
        continue;
      }
      const total = weightOf(r, routes);
      const canaryWeight = (total * wanted.weight) / 100;
      if (!Number.isInteger(canaryWeight)) {
        return {
          ok: false,
          problem: `VirtualService ${routeName(vs)} gives Service ${wanted.service} ${total}% of ${describeRoute(entry, index)}, and Istio weights are whole numbers, so ${wanted.weight}% of that cannot be expressed: give the Service an http route of its own, or use weights that divide it evenly`,
        };
      }
      const { subset: _subset, ...destination } = isObject(r.destination) ? r.destination : {};
      const stable = { ...r, destination: { ...destination, host: renamed(destination.host, stableServiceName(wanted.service)) }, weight: total - canaryWeight };
      const canary = { ...r, destination: { ...destination, host: renamed(destination.host, canaryServiceName(wanted.service)) }, weight: canaryWeight };
      canaryRoute ??= canary;
      split.push(stable, canary);
    }
    if (wanted.headerRoute && canaryRoute) {
      const headers = istioHeaders(wanted.headerRoute);
      const matches = list(entry.match);
      const { weight: _weight, ...only } = canaryRoute;
      out.push({
        ...entry,
        ...(typeof entry.name === 'string' ? { name: `${entry.name}-canary-header` } : {}),
        match: matches.length > 0 ? matches.map((m) => ({ ...m, headers: { ...(isObject(m.headers) ? m.headers : {}), ...headers } })) : [{ headers }],
        route: [only],
      });
    }
    out.push({ ...entry, route: split });
  }
  return { ok: true, spec: { ...original, http: out } };
}

/** The merge patch that writes the rewritten http routes and records the original spec and header route. */
export function virtualServicePatch(vs: RouteObject, spec: Json, headerRoute: HeaderMatch[] | null): Json {
  return writePatch(vs, { http: spec.http }, headerRoute);
}

/** The canary's share of the Service's traffic in the first split route (the header route has only the canary). */
function canaryWeight(vs: RouteObject, service: string): number {
  const namespace = vs.metadata?.namespace ?? '';
  const host = (r: Json) => hostService(isObject(r.destination) ? r.destination.host : undefined, namespace)?.name;
  return splitWeight(list(vs.spec?.http).map((entry) => list(entry.route)), host, weightOf, service);
}

/**
 * Whether istiod took the VirtualService: its `Reconciled` condition True, for a `status.observedGeneration` (an
 * int64 that Istio writes as a string) at least the object's generation. istiod writes no status unless status
 * reporting is on (PILOT_ENABLE_STATUS, off by default): a VirtualService with no Reconciled condition at all has
 * nothing to wait for and counts as taken once written.
 */
export function reconciliation(vs: RouteObject): { accepted: boolean; message: string | null } {
  const status = vs.status ?? {};
  const condition = list(status.conditions).find((c) => c.type === 'Reconciled');
  if (!condition) return { accepted: true, message: null };
  const generation = vs.metadata?.generation ?? 0;
  const observed = Number(condition.observedGeneration ?? status.observedGeneration ?? Number.NaN);
  if (!(observed >= generation)) {
    return { accepted: false, message: `VirtualService ${routeName(vs)} is not yet reconciled by istiod at generation ${generation}` };
  }
  if (condition.status !== 'True') {
    const why = [condition.reason, condition.message].filter((part) => typeof part === 'string' && part !== '').join(': ');
    return { accepted: false, message: `VirtualService ${routeName(vs)} is not reconciled by istiod (${why || `Reconciled is ${String(condition.status)}`})` };
  }
  return { accepted: true, message: null };
}

const ISTIO: RouteDialect = { field: 'http', weightOf: canaryWeight, desired: desiredVirtualServiceSpec, acceptance: reconciliation };

/** What the VirtualService says: the canary weight and header route in force, and whether istiod reconciled it. */
export function readVirtualService(vs: RouteObject, service: string): RouteReading {
  return readRoute(vs, service, ISTIO);
}
