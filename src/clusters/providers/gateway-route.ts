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
import { canonicalJson } from '../canary-template.ts';
import type { HeaderMatch } from './types.ts';
import { canaryServiceName, stableServiceName } from './route-services.ts';

export const ORIGINAL_SPEC_ANNOTATION = 'oleada.dev/original-spec';
export const HEADER_ROUTE_ANNOTATION = 'oleada.dev/header-route';

type Json = Record<string, unknown>;

export interface RouteObject {
  metadata?: { name?: string; namespace?: string; generation?: number; annotations?: Record<string, string> };
  spec?: Json;
  status?: Json;
}

export interface RouteWanted {
  service: string;
  weight: number;
  headerRoute: HeaderMatch[] | null;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function routeName(route: RouteObject): string {
  return `${route.metadata?.namespace ?? ''}/${route.metadata?.name ?? ''}`;
}

/** The spec before Oleada's first rewrite: from the annotation, or the live spec when there is none. */
export function originalSpec(route: RouteObject): Json {
  const saved = route.metadata?.annotations?.[ORIGINAL_SPEC_ANNOTATION];
  if (saved !== undefined) {
    try {
      const parsed: unknown = JSON.parse(saved);
      if (isObject(parsed)) return parsed;
    } catch {
      // A damaged annotation: fall back to the live spec rather than fail the rollout.
    }
  }
  return structuredClone(route.spec ?? {});
}

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

export type Rewrite = { ok: true; spec: Json } | { ok: false; problem: string };

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
  if (!Number.isInteger(wanted.weight) || wanted.weight < 0 || wanted.weight > 100) {
    return { ok: false, problem: `an HTTPRoute weight must be a whole percentage from 0 to 100, got ${wanted.weight}` };
  }
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

/** The merge patch that writes `spec` and records the original spec and header route, guarded by resourceVersion. */
export function rewritePatch(route: RouteObject & { metadata?: { resourceVersion?: string } }, spec: Json, headerRoute: HeaderMatch[] | null): Json {
  return {
    metadata: {
      resourceVersion: route.metadata?.resourceVersion,
      annotations: {
        // Kept as written (key order too), so that finalize gives the user's spec back byte for byte.
        [ORIGINAL_SPEC_ANNOTATION]: JSON.stringify(originalSpec(route)),
        [HEADER_ROUTE_ANNOTATION]: headerRoute ? JSON.stringify(headerRoute) : null,
      },
    },
    spec: { rules: spec.rules },
  };
}

/**
 * The merge patch that puts the original spec back and drops Oleada's annotations. Every key of the live spec that the
 * original lacks is removed (null), so the spec is the user's again byte for byte; metadata others own is untouched.
 */
export function restorePatch(route: RouteObject & { metadata?: { resourceVersion?: string } }): Json | null {
  if (route.metadata?.annotations?.[ORIGINAL_SPEC_ANNOTATION] === undefined) return null;
  const original = originalSpec(route);
  const spec: Json = { ...original };
  for (const key of Object.keys(route.spec ?? {})) if (!(key in original)) spec[key] = null;
  return {
    metadata: {
      resourceVersion: route.metadata.resourceVersion,
      annotations: { [ORIGINAL_SPEC_ANNOTATION]: null, [HEADER_ROUTE_ANNOTATION]: null },
    },
    spec,
  };
}

export interface RouteReading {
  /** Oleada's rewrite is on the route. */
  inPlace: boolean;
  weight: number;
  headerRoute: HeaderMatch[] | null;
  /** The live spec is not what Oleada wrote for that weight and header route: someone edited it. */
  drifted: boolean;
  accepted: boolean;
  message: string | null;
}

/** What the route says: the canary weight and header route in force, and whether every parent accepted it. */
export function readRoute(route: RouteObject, service: string): RouteReading {
  const inPlace = route.metadata?.annotations?.[ORIGINAL_SPEC_ANNOTATION] !== undefined;
  const { accepted, message } = acceptance(route);
  if (!inPlace) return { inPlace, weight: 0, headerRoute: null, drifted: false, accepted, message };
  const stable = stableServiceName(service);
  const canary = canaryServiceName(service);
  let stableWeight = 0;
  let canaryWeight = 0;
  for (const rule of list(route.spec?.rules)) {
    const refs = list(rule.backendRefs);
    if (!refs.some((ref) => ref.name === stable)) continue; // the header rule has only the canary
    for (const ref of refs) {
      const weight = typeof ref.weight === 'number' ? ref.weight : 1;
      if (ref.name === stable) stableWeight += weight;
      if (ref.name === canary) canaryWeight += weight;
    }
    break;
  }
  const total = stableWeight + canaryWeight;
  const weight = total === 0 ? 0 : Math.round((1000 * canaryWeight) / total) / 10;
  const headerRoute = parseHeaderRoute(route.metadata?.annotations?.[HEADER_ROUTE_ANNOTATION]);
  const wanted = desiredRouteSpec(route, { service, weight, headerRoute });
  const drifted = !wanted.ok || canonicalJson(wanted.spec.rules) !== canonicalJson(route.spec?.rules ?? []);
  return { inPlace, weight, headerRoute, drifted, accepted, message };
}

function parseHeaderRoute(text: string | undefined): HeaderMatch[] | null {
  if (!text) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.length > 0 ? (parsed as HeaderMatch[]) : null;
  } catch {
    return null;
  }
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
