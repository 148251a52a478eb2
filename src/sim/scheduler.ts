// The scheduler's decision for one pod: a node that is not cordoned (spec.unschedulable) and whose NoSchedule and
// NoExecute taints the pod tolerates, taken round-robin; or, when there is none, kube-scheduler's FailedScheduling
// message ("0/3 nodes are available: 3 node(s) were unschedulable.").
import { isPlainObject, type KubeObject } from './objects.ts';
import { specOf } from './runtime.ts';

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

function taintsOf(node: KubeObject): Taint[] {
  const taints = specOf(node).taints;
  return Array.isArray(taints) ? (taints.filter((t) => isPlainObject(t) && typeof t.key === 'string') as unknown as Taint[]) : [];
}

/** Toleration semantics (ToleratesTaint): key (or empty with Exists), operator Equal or Exists, effect (or empty). */
function tolerates(pod: KubeObject, taint: Taint): boolean {
  const tolerations = specOf(pod).tolerations;
  if (!Array.isArray(tolerations)) return false;
  return tolerations.filter(isPlainObject).some((t) => {
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    const exists = t.operator === 'Exists';
    if (t.key === undefined || t.key === '') return exists;
    if (t.key !== taint.key) return false;
    return exists || (t.value ?? '') === (taint.value ?? '');
  });
}

export type Placement = { node: string } | { unschedulable: string };

export class Scheduler {
  private next = 0;

  place(pod: KubeObject, nodes: KubeObject[]): Placement {
    let cordoned = 0;
    const untolerated = new Map<string, number>();
    const fit: string[] = [];
    for (const node of nodes) {
      if (specOf(node).unschedulable === true) {
        cordoned++;
        continue;
      }
      const taint = taintsOf(node).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod, t));
      if (taint) {
        const text = `{${taint.key}${taint.value ? `: ${taint.value}` : ''}}`;
        untolerated.set(text, (untolerated.get(text) ?? 0) + 1);
        continue;
      }
      fit.push(node.metadata.name!);
    }
    if (fit.length > 0) return { node: fit[this.next++ % fit.length]! };
    const reasons = [...(cordoned > 0 ? [`${cordoned} node(s) were unschedulable`] : []), ...[...untolerated].map(([taint, n]) => `${n} node(s) had untolerated taint ${taint}`)].sort();
    return { unschedulable: `0/${nodes.length} nodes are available: ${reasons.join(', ')}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.` };
  }
}
