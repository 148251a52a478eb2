/** Applying a router's merge patch to a routing object the way the API server would, for the routers' unit tests. */
import type { RouteObject } from '../../../src/clusters/providers/route-object.ts';

/** The route as the API server would hold it after the merge patch (objects merge, arrays and scalars replace). */
export function applied(live: RouteObject, patch: Record<string, any>): RouteObject {
  const annotations = { ...live.metadata?.annotations };
  for (const [key, value] of Object.entries(patch.metadata?.annotations ?? {})) {
    if (value === null) delete annotations[key];
    else annotations[key] = value as string;
  }
  const spec: Record<string, unknown> = { ...live.spec };
  for (const [key, value] of Object.entries(patch.spec ?? {})) {
    if (value === null) delete spec[key];
    else spec[key] = value;
  }
  return { ...live, metadata: { ...live.metadata, annotations }, spec };
}
