// A pod's QoS class, as the API server computes it when the pod is created (pkg/apis/core/v1/helper/qos):
// Guaranteed when every container limits and requests CPU and memory alike, BestEffort when none asks for
// anything, Burstable otherwise. Requests are defaulted from limits first, as the API server's defaulting does.
import { isPlainObject } from './objects.ts';

type Resources = Record<string, unknown>;

/** Sets requests to limits for every resource that has a limit and no request. */
export function defaultRequests(container: Record<string, unknown>): void {
  if (!isPlainObject(container.resources)) return;
  const resources = container.resources;
  if (!isPlainObject(resources.limits)) return;
  const requests: Resources = isPlainObject(resources.requests) ? { ...resources.requests } : {};
  for (const [name, limit] of Object.entries(resources.limits)) if (requests[name] === undefined) requests[name] = limit;
  container.resources = { ...resources, requests };
}

export function qosClass(containers: Record<string, unknown>[]): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const resources = isPlainObject(c.resources) ? c.resources : {};
    const requests = isPlainObject(resources.requests) ? resources.requests : {};
    const limits = isPlainObject(resources.limits) ? resources.limits : {};
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true;
    for (const name of ['cpu', 'memory']) {
      if (limits[name] === undefined || String(limits[name]) !== String(requests[name] ?? limits[name])) guaranteed = false;
    }
    if (Object.keys(requests).some((name) => limits[name] === undefined || String(limits[name]) !== String(requests[name]))) guaranteed = false;
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
