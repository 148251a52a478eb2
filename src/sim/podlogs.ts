// What `kubectl logs` reads: a line per container about what it runs and how it behaves. `previous=true` asks for
// the container instance before the last restart; a container that never restarted has none, and the kubelet
// answers 400, as a real one does.
import type { Behaviour } from './behaviours.ts';
import { badRequest } from './errors.ts';
import { isPlainObject, type KubeObject } from './objects.ts';
import { specOf, statusOf } from './runtime.ts';

function containersOf(pod: KubeObject): Record<string, unknown>[] {
  const containers = specOf(pod).containers;
  return Array.isArray(containers) ? containers.filter(isPlainObject) : [];
}

function restartCount(pod: KubeObject, container: string): number {
  const statuses = statusOf(pod).containerStatuses;
  const status = Array.isArray(statuses) ? statuses.find((s) => isPlainObject(s) && s.name === container) : undefined;
  return isPlainObject(status) && typeof status.restartCount === 'number' ? status.restartCount : 0;
}

export function podLog(cluster: string, pod: KubeObject, behaviour: Behaviour, query: URLSearchParams): string {
  const name = pod.metadata.name!;
  let containers = containersOf(pod);
  const wanted = query.get('container');
  if (wanted) {
    containers = containers.filter((c) => c.name === wanted);
    if (containers.length === 0) throw badRequest(`container ${wanted} is not valid for pod ${name}`);
  }
  const previous = query.get('previous') === 'true';
  return containers
    .map((c) => {
      const container = String(c.name);
      if (previous && restartCount(pod, container) === 0) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
      const state = behaviour.crash ? 'panic: simulated crash' : behaviour.pullfail ? 'image not pulled' : `serving (errors ${behaviour.errors * 100}%, +${behaviour.latencyMs} ms)`;
      return `kube-sim: pod ${name} container ${container} image ${String(c.image)} in cluster ${cluster}: ${state}\n`;
    })
    .join('');
}
