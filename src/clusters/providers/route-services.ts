/**
 * The two Services a router points its routes at, `<service>-stable` and `<service>-canary`, built from the app's
 * Service. Pure. They have its ports and its selector plus one label that tells the versions apart: the stable's
 * `version` label, and the canary's role label (the canary's pods keep the app's labels, so the app's selector alone
 * would match both).
 */
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { CANARY_ROLE, ROLE_LABEL, VERSION_LABEL } from '../workload.ts';

/** Marks the Services a router created, for a person reading `kubectl get svc --show-labels`. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'oleada';

export function stableServiceName(service: string): string {
  return `${service}-stable`;
}

export function canaryServiceName(service: string): string {
  return `${service}-canary`;
}

export type RouteServices = { ok: true; stable: V1Service; canary: V1Service } | { ok: false; problem: string };

export function buildRouteServices(app: V1Service, stableVersion: string | null): RouteServices {
  const name = app.metadata?.name ?? '';
  const namespace = app.metadata?.namespace ?? '';
  const selector = app.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) {
    return { ok: false, problem: `service ${namespace}/${name} has no selector, so Oleada cannot make stable and canary copies of it: give it a pod selector` };
  }
  if (stableVersion === null) {
    return {
      ok: false,
      problem: `the stable pods behind service ${namespace}/${name} have no ${VERSION_LABEL} label, so a Service cannot select them apart from the canary's: add ${VERSION_LABEL} to the stable Deployment's pod template`,
    };
  }
  const ports = (app.spec?.ports ?? []).map((port): V1ServicePort => {
    const { nodePort: _nodePort, ...rest } = plain(port);
    return rest;
  });
  const make = (serviceName: string, extra: Record<string, string>): V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    spec: { type: 'ClusterIP', selector: { ...selector, ...extra }, ports },
  });
  return {
    ok: true,
    stable: make(stableServiceName(name), { [VERSION_LABEL]: stableVersion }),
    canary: make(canaryServiceName(name), { [ROLE_LABEL]: CANARY_ROLE }),
  };
}

/** The version a stable Service selects, or null when it does not select by version. */
export function selectedVersion(service: V1Service | null): string | null {
  return service?.spec?.selector?.[VERSION_LABEL] ?? null;
}

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
