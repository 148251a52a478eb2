/**
 * Rewriting a user's Gateway API HTTPRoute (v1) for a canary, as pure functions from the observed route to the desired
 * one, so that every rule of it is unit-tested without a cluster.
 *
 * Each rule whose backendRefs point at the app's Service gets that ref split in two, `<service>-stable` and
 * `<service>-canary`, weighted 100-w and w; a header route adds, before each such rule, a copy whose matches also
 * require the headers and whose only backend is the canary. Rules that do not point at the Service, and every other
 * field (filters, timeouts, parentRefs, hostnames), are kept as the user wrote them. The spec as it was before the
 * first rewrite is kept in an annotation, so that finalize puts it back exactly, and every rewrite starts from it.
 */
import type { HeaderMatch } from './types.ts';
import { canaryServiceName, stableServiceName } from './route-services.ts';
import {
  isObject,
  list,
  originalSpec,
  splitWeight,
  readRoute as readWith,
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

function pointsAt(ref: Json, service: string, namespace: string, routeNamespace: string): boolean {
  return (
    (ref.kind ?? 'Service') === 'Service' &&
    (ref.group ?? '') === '' &&
    ref.name === service &&
    (typeof ref.namespace === 'string' ? ref.namespace : routeNamespace) === namespace
  );
}

/**
 * Gateway API matches headers exactly or by regular expression; a prefix is a regular expression anchored at the start
 * and open at the end (`^beta\..*`), so that it means the same to gateways whose expressions match the whole value
 * (Envoy-based: Istio, Envoy Gateway, Contour) and to those that search for a match inside it.
 */
export function gatewayHeaders(match: readonly HeaderMatch[]): Json[] {
  return match.map((m) =>
    m.exact !== undefined
      ? { type: 'Exact', name: m.header, value: m.exact }
      : { type: 'RegularExpression', name: m.header, value: m.prefix !== undefined ? `^${escapeRegex(m.prefix)}.*` : m.regex! },
  );
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The route's spec carrying `wanted`, computed from its original spec. */
export function desiredRouteSpec(route: RouteObject, wanted: RouteWanted): Rewrite {
  const namespace = route.metadata?.namespace ?? '';
  const original = originalSpec(route);
  const rules = list(original.rules);
  const targets = (rule: Json) => list(rule.backendRefs).some((ref) => pointsAt(ref, wanted.service, namespace, namespace));
  if (!rules.some(targets)) {
    return {
      ok: false,
      problem: `HTTPRoute ${routeName(route)} has no rule whose backendRefs point at Service ${wanted.service}: point a rule at it, or set traffic.service to the Service the route sends to`,
    };
  }
  const badWeight = weightProblem('HTTPRoute', wanted.weight);
  if (badWeight) return { ok: false, problem: badWeight };
  const stable = stableServiceName(wanted.service);
  const canary = canaryServiceName(wanted.service);
  const out: Json[] = [];
  for (const rule of rules) {
    if (!targets(rule)) {
      out.push(rule);
      continue;
    }
    const refs = list(rule.backendRefs);
    if (wanted.headerRoute) {
      const matches = list(rule.matches).length > 0 ? list(rule.matches) : [{ path: { type: 'PathPrefix', value: '/' } }];
      const headers = gatewayHeaders(wanted.headerRoute);
      const canaryRef = refs.find((ref) => pointsAt(ref, wanted.service, namespace, namespace))!;
      out.push({
        ...rule,
        matches: matches.map((m) => ({ ...m, headers: [...list(m.headers), ...headers] })),
        backendRefs: [{ ...canaryRef, name: canary, weight: 1 }],
      });
    }
    out.push({
      ...rule,
      backendRefs: refs.flatMap((ref) =>
        pointsAt(ref, wanted.service, namespace, namespace)
          ? [
              { ...ref, name: stable, weight: 100 - wanted.weight },
              { ...ref, name: canary, weight: wanted.weight },
            ]
          : [ref],
      ),
    });
  }
  return { ok: true, spec: { ...original, rules: out } };
}

/** The merge patch that writes the rewritten rules and records the original spec and header route. */
export function rewritePatch(route: RouteObject, spec: Json, headerRoute: HeaderMatch[] | null): Json {
  return writePatch(route, { rules: spec.rules }, headerRoute);
}

/** The canary's share of the first split rule (the header rule has only the canary, so it is skipped). */
function canaryWeight(route: RouteObject, service: string): number {
  const weight = (ref: Json) => (typeof ref.weight === 'number' ? ref.weight : 1);
  return splitWeight(list(route.spec?.rules).map((rule) => list(rule.backendRefs)), (ref) => ref.name, weight, service);
}

const GATEWAY: RouteDialect = { field: 'rules', weightOf: canaryWeight, desired: desiredRouteSpec, acceptance };

/** What the route says: the canary weight and header route in force, and whether every parent accepted it. */
export function readRoute(route: RouteObject, service: string): RouteReading {
  return readWith(route, service, GATEWAY);
}

/** Accepted: every parent in status.parents says Accepted=True for the route's current generation. */
export function acceptance(route: RouteObject): { accepted: boolean; message: string | null } {
  const generation = route.metadata?.generation ?? 0;
  const parents = list(route.status?.parents);
  if (parents.length === 0) return { accepted: false, message: `HTTPRoute ${routeName(route)} has no status from any gateway yet` };
  for (const parent of parents) {
    const ref = isObject(parent.parentRef) ? parent.parentRef : {};
    const condition = list(parent.conditions).find((c) => c.type === 'Accepted');
    const current = typeof condition?.observedGeneration === 'number' && condition.observedGeneration >= generation;
    if (condition?.status === 'True' && current) continue;
    const why = !condition ? 'no Accepted condition' : !current ? 'not yet seen at the current generation' : `${String(condition.reason ?? '')}: ${String(condition.message ?? '')}`;
    return { accepted: false, message: `HTTPRoute ${routeName(route)} is not accepted by gateway ${String(ref.name ?? '?')} (${why})` };
  }
  return { accepted: true, message: null };
}
