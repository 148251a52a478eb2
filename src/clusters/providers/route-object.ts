/**
 * What the routers share about a user's routing object (an HTTPRoute, a VirtualService), as pure functions: the spec as
 * it was before Oleada's first rewrite, kept in an annotation as Flagger does, so that every rewrite starts from it and
 * finalize puts it back byte for byte; the header route recorded beside it; and the merge patches that write and
 * restore. Each router's own rewriting (gateway-route.ts, istio-route.ts) only says how a weight looks in its spec.
 */
import { canonicalJson } from '../canary-template.ts';
import { canaryServiceName, stableServiceName } from './route-services.ts';
import type { HeaderMatch } from './types.ts';

export const ORIGINAL_SPEC_ANNOTATION = 'oleada.dev/original-spec';
export const HEADER_ROUTE_ANNOTATION = 'oleada.dev/header-route';

export type Json = Record<string, unknown>;

export interface RouteObject {
  metadata?: { name?: string; namespace?: string; generation?: number; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: Json;
  status?: Json;
}

export interface RouteWanted {
  service: string;
  weight: number;
  headerRoute: HeaderMatch[] | null;
}

export type Rewrite = { ok: true; spec: Json } | { ok: false; problem: string };

export interface RouteReading {
  /** Oleada's rewrite is on the route. */
  inPlace: boolean;
  weight: number;
  headerRoute: HeaderMatch[] | null;
  /** The live spec is not what Oleada wrote for that weight and header route: someone edited it. */
  drifted: boolean;
  /** The route's controllers took its current generation. */
  accepted: boolean;
  message: string | null;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function routeName(route: RouteObject): string {
  return `${route.metadata?.namespace ?? ''}/${route.metadata?.name ?? ''}`;
}

/** A weight every router can express: a whole percentage. */
export function weightProblem(kind: string, weight: number): string | null {
  return Number.isInteger(weight) && weight >= 0 && weight <= 100 ? null : `a ${kind} weight must be a whole percentage from 0 to 100, got ${weight}`;
}

/** Oleada's rewrite is on the route: it carries the original spec. */
export function isRewritten(route: RouteObject): boolean {
  return route.metadata?.annotations?.[ORIGINAL_SPEC_ANNOTATION] !== undefined;
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

/** The header route Oleada last wrote on the route, from its annotation. */
export function recordedHeaderRoute(route: RouteObject): HeaderMatch[] | null {
  const text = route.metadata?.annotations?.[HEADER_ROUTE_ANNOTATION];
  if (!text) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.length > 0 ? (parsed as HeaderMatch[]) : null;
  } catch {
    return null;
  }
}

/**
 * The merge patch that writes `spec` (only the fields the router rewrites) and records the original spec and header
 * route, guarded by the resourceVersion read so that a concurrent edit is a conflict and a fresh read.
 */
export function writePatch(route: RouteObject, spec: Json, headerRoute: HeaderMatch[] | null): Json {
  return {
    metadata: {
      resourceVersion: route.metadata?.resourceVersion,
      annotations: {
        // Kept as written (key order too), so that finalize gives the user's spec back byte for byte.
        [ORIGINAL_SPEC_ANNOTATION]: JSON.stringify(originalSpec(route)),
        [HEADER_ROUTE_ANNOTATION]: headerRoute ? JSON.stringify(headerRoute) : null,
      },
    },
    spec,
  };
}

/**
 * The merge patch that puts the original spec back and drops Oleada's annotations. Every key of the live spec that the
 * original lacks is removed (null), so the spec is the user's again byte for byte; metadata others own is untouched.
 */
export function restorePatch(route: RouteObject): Json | null {
  if (!isRewritten(route)) return null;
  const original = originalSpec(route);
  const spec: Json = { ...original };
  for (const key of Object.keys(route.spec ?? {})) if (!(key in original)) spec[key] = null;
  return {
    metadata: {
      resourceVersion: route.metadata?.resourceVersion,
      annotations: { [ORIGINAL_SPEC_ANNOTATION]: null, [HEADER_ROUTE_ANNOTATION]: null },
    },
    spec,
  };
}

/** How one router reads its own spec: the canary weight it carries, its rewrite for a weight, and its controllers' verdict. */
export interface RouteDialect {
  /** The spec field the rewrite changes (HTTPRoute `rules`, VirtualService `http`). */
  field: string;
  weightOf(route: RouteObject, service: string): number;
  desired(route: RouteObject, wanted: RouteWanted): Rewrite;
  acceptance(route: RouteObject): { accepted: boolean; message: string | null };
}

/**
 * What the route says: the canary weight and header route in force, whether its controllers took it, and whether it is
 * still what Oleada wrote (the rewrite for the weight read back, compared with the live field).
 */
export function readRoute(route: RouteObject, service: string, dialect: RouteDialect): RouteReading {
  const inPlace = isRewritten(route);
  const { accepted, message } = dialect.acceptance(route);
  if (!inPlace) return { inPlace, weight: 0, headerRoute: null, drifted: false, accepted, message };
  const weight = dialect.weightOf(route, service);
  const headerRoute = recordedHeaderRoute(route);
  const wanted = dialect.desired(route, { service, weight, headerRoute });
  const drifted = !wanted.ok || canonicalJson(wanted.spec[dialect.field]) !== canonicalJson(route.spec?.[dialect.field] ?? []);
  return { inPlace, weight, headerRoute, drifted, accepted, message };
}

/**
 * The canary's weight in percent (to a tenth) of the first split among `groups` (a route's rules or http routes, each
 * a list of backends): the first group naming the stable, since a header route's names only the canary.
 */
export function splitWeight(groups: readonly Json[][], name: (backend: Json) => unknown, weight: (backend: Json, group: readonly Json[]) => number, service: string): number {
  const stable = stableServiceName(service);
  const canary = canaryServiceName(service);
  const group = groups.find((backends) => backends.some((b) => name(b) === stable));
  if (!group) return 0;
  const sum = (wanted: string) => group.filter((b) => name(b) === wanted).reduce((total, b) => total + weight(b, group), 0);
  const total = sum(stable) + sum(canary);
  return total === 0 ? 0 : Math.round((1000 * sum(canary)) / total) / 10;
}

