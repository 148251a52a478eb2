/**
 * The words of traffic routing that the rollout file, the clusters file and the plan share: which provider moves a
 * cluster's traffic, and what a header route matches.
 */
import { Type, type Static } from 'typebox';

export const PROVIDER_KINDS = ['replicas', 'gateway-api', 'istio'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const ProviderKindSchema = Type.Union(
  PROVIDER_KINDS.map((kind) => Type.Literal(kind)),
  { 'x-expected': 'a traffic provider: replicas, gateway-api or istio' },
);

/** One header condition of a header route; exactly one of exact, prefix and regex is set (checkSpec says so). */
export interface HeaderMatch {
  header: string;
  exact?: string;
  prefix?: string;
  regex?: string;
}

/** An HTTP header name as RFC 9110 allows it (a token). */
const HEADER_NAME = "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$";

export const HeaderMatchSchema = Type.Object(
  {
    header: Type.String({ minLength: 1, maxLength: 256, pattern: HEADER_NAME, 'x-expected': 'an HTTP header name such as X-Canary' }),
    exact: Type.Optional(Type.String({ maxLength: 4096 })),
    prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    regex: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false, 'x-expected': 'a header match such as { header: X-Canary, exact: "1" }' },
);

export const TrafficSchema = Type.Object(
  {
    /** Forces one provider on every cluster; absent: each cluster's own from the clusters file. */
    provider: Type.Optional(ProviderKindSchema),
    /** The app's Service; routers add <service>-stable and <service>-canary beside it. */
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$', 'x-expected': 'a Service name' })),
    /** gateway-api: the user's HTTPRoute whose backendRef points at the Service. */
    httpRoute: Type.Optional(Type.String({ minLength: 1, maxLength: 253, 'x-expected': 'an HTTPRoute name' })),
    /** istio: the user's VirtualService that routes to the Service's host. */
    virtualService: Type.Optional(Type.String({ minLength: 1, maxLength: 253, 'x-expected': 'a VirtualService name' })),
  },
  { additionalProperties: false, 'x-expected': 'a traffic block such as { provider: gateway-api, service: checkout, httpRoute: checkout }' },
);

export type TrafficSpec = Static<typeof TrafficSchema>;

/** The fields a provider needs from the rollout file's traffic block. */
export const REQUIRED_FIELDS: Record<ProviderKind, (keyof TrafficSpec)[]> = {
  replicas: [],
  'gateway-api': ['service', 'httpRoute'],
  istio: ['service', 'virtualService'],
};

/** A header route in a few words: `X-Canary=1, X-User prefix beta, X-Id ~ ^a`. */
export function describeHeaderRoute(match: readonly HeaderMatch[]): string {
  return match
    .map((m) => (m.exact !== undefined ? `${m.header}=${m.exact}` : m.prefix !== undefined ? `${m.header} prefix ${m.prefix}` : `${m.header} ~ ${m.regex}`))
    .join(', ');
}
