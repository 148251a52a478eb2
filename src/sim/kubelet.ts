// The nodes' side of the simulation: schedules pods onto nodes and moves each through its life as its version's
// behaviour dictates. A healthy pod is Running after the start-up delay and Ready once its readiness probe's initial
// delay has passed; a crashing one cycles through Error and CrashLoopBackOff with a climbing restartCount and Kubernetes'
// doubling back-off; one whose image cannot be pulled stays Pending in ErrImagePull / ImagePullBackOff.
import { HEALTHY, type Behaviour } from './behaviours.ts';
import { fnv32a } from './names.ts';
import { isPlainObject, timestamp, type KubeObject } from './objects.ts';
import { qosClass } from './qos.ts';
import { num, specOf, statusOf, workKey, type ClusterRuntime } from './runtime.ts';
import { Scheduler } from './scheduler.ts';
import type { StoreEvent } from './store.ts';

export interface KubeletOptions {
  /** Simulated seconds from scheduling to containers started (image pull and container creation). */
  startDelaySeconds: number;
  nodes: string[];
}

type Phase = 'creating' | 'running' | 'crashing' | 'pullfail';

interface PodRuntime {
  phase: Phase;
  node: string;
  ip?: string;
  scheduledAt: number;
  startAt: number;
  /** When the current container instance started (running) or last ran (crashing). */
  startedAt?: number;
  readyAt?: number;
  readySince?: number;
  restarts: number;
  terminatedAt?: number;
  /** Next crash restart or image pull retry. */
  nextAt?: number;
  attempts: number;
  images: string;
}

const MAX_BACKOFF_SECONDS = 300;

function backoffSeconds(attempt: number): number {
  return Math.min(10 * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_SECONDS);
}

function containersOf(pod: KubeObject): Record<string, unknown>[] {
  const containers = specOf(pod).containers;
  return Array.isArray(containers) ? containers.filter(isPlainObject) : [];
}

function fakeDigest(seed: string): string {
  let out = '';
  for (let i = 0; out.length < 64; i++) out += fnv32a(`${seed}:${i}`).toString(16).padStart(8, '0');
  return out.slice(0, 64);
}

export class Kubelet {
  private readonly pods = new Map<string, PodRuntime>();
  private readonly scheduler = new Scheduler();
  /** Pods no node could take, by uid: a node change gives them another chance. */
  private readonly unscheduled = new Map<string, { namespace: string; name: string }>();
  private nextIp = 1;
  /** While the seed is applied, pods start at once, so a fresh simulation begins in a steady state. */
  instant = false;

  constructor(
    private readonly rt: ClusterRuntime,
    private readonly options: KubeletOptions,
  ) {}

  observe(event: StoreEvent): void {
    if (event.resource === this.rt.types.nodes) {
      for (const { namespace, name } of this.unscheduled.values()) this.rt.queue.add(workKey('pod', namespace, name));
      return;
    }
    if (event.resource !== this.rt.types.pods) return;
    const pod = event.object;
    if (event.type === 'DELETED') {
      this.pods.delete(pod.metadata.uid!);
      this.unscheduled.delete(pod.metadata.uid!);
      return;
    }
    const runtime = this.pods.get(pod.metadata.uid!);
    // Our own status writes come back as events too; only a new pod or a changed image needs the kubelet.
    if (!runtime || runtime.images !== imagesOf(pod)) this.rt.queue.add(workKey('pod', pod.metadata.namespace, pod.metadata.name!));
  }

  /** Every pod looks at its behaviour again (after a run-time behaviour change). */
  resyncAll(): void {
    for (const pod of this.rt.store.each(this.rt.types.pods)) this.rt.queue.add(workKey('pod', pod.metadata.namespace, pod.metadata.name!));
  }

  /** Real time at which the pod became Ready, for minReadySeconds and scale-down ranking. */
  readySince(pod: KubeObject): number | undefined {
    const since = this.pods.get(pod.metadata.uid!)?.readySince;
    if (since !== undefined) return since;
    const conditions = statusOf(pod).conditions;
    const ready = Array.isArray(conditions) ? conditions.find((c) => isPlainObject(c) && c.type === 'Ready' && c.status === 'True') : undefined;
    return isPlainObject(ready) && typeof ready.lastTransitionTime === 'string' ? Date.parse(ready.lastTransitionTime) : undefined;
  }

  behaviourOf(pod: KubeObject): Behaviour {
    const version = pod.metadata.labels?.version;
    const result: Behaviour = { ...HEALTHY };
    for (const container of containersOf(pod)) {
      const b = this.rt.behaviours.resolve(this.rt.cluster, String(container.image ?? ''), version);
      result.errors = Math.max(result.errors, b.errors);
      result.latencyMs += b.latencyMs;
      result.crash ||= b.crash;
      result.pullfail ||= b.pullfail;
    }
    return result;
  }

  reconcile(namespace: string, name: string): void {
    const { store, types } = this.rt;
    const pod = store.get(types.pods, namespace, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const now = this.rt.now();
    let runtime = this.pods.get(pod.metadata.uid!);
    const images = imagesOf(pod);
    if (!runtime) {
      const node = this.schedule(pod);
      if (node === undefined) return;
      runtime = { phase: 'creating', node, scheduledAt: now, startAt: now + (this.instant ? 0 : this.rt.scaledMs(this.options.startDelaySeconds)), restarts: 0, attempts: 0, images };
      this.pods.set(pod.metadata.uid!, runtime);
      this.event(pod, 'Normal', 'Pulling', `Pulling image "${images}"`);
    } else if (runtime.images !== images) {
      // A new image restarts the container: it is pulled and started again.
      runtime.images = images;
      runtime.phase = 'creating';
      runtime.startAt = now + this.rt.scaledMs(this.options.startDelaySeconds);
      runtime.readyAt = undefined;
      runtime.readySince = undefined;
      runtime.nextAt = undefined;
      runtime.attempts = 0;
    }
    this.advance(pod, runtime, this.behaviourOf(pod), now);
    const wake = [runtime.phase === 'creating' ? runtime.startAt : undefined, runtime.readySince === undefined ? runtime.readyAt : undefined, runtime.nextAt]
      .filter((t): t is number => t !== undefined && t > now)
      .reduce((min, t) => Math.min(min, t), Infinity);
    if (wake !== Infinity) this.rt.queue.addAfter(workKey('pod', namespace, name), wake - now);

    const status = this.statusFor(pod, runtime);
    const spec = specOf(pod);
    const latest = spec.nodeName === runtime.node ? pod : { ...pod, spec: { ...spec, nodeName: runtime.node } };
    store.update(types.pods, { ...latest, status });
  }

  /** The pod's node: its own nodeName, or the scheduler's pick; undefined (and Pending, Unschedulable) when none fits. */
  private schedule(pod: KubeObject): string | undefined {
    const { store, types } = this.rt;
    if (typeof specOf(pod).nodeName === 'string' && specOf(pod).nodeName !== '') return String(specOf(pod).nodeName);
    const placement = this.scheduler.place(pod, [...store.each(types.nodes)]);
    const uid = pod.metadata.uid!;
    if ('node' in placement) {
      this.unscheduled.delete(uid);
      this.rt.events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${placement.node}`, 'default-scheduler');
      return placement.node;
    }
    this.unscheduled.set(uid, { namespace: pod.metadata.namespace!, name: pod.metadata.name! });
    this.rt.events.record(pod, 'Warning', 'FailedScheduling', placement.unschedulable, 'default-scheduler');
    const condition = { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: timestamp(this.rt.now()), reason: 'Unschedulable', message: placement.unschedulable };
    const current = (statusOf(pod).conditions as { message?: string }[] | undefined)?.[0];
    if (current?.message !== placement.unschedulable) store.update(types.pods, { ...pod, status: { phase: 'Pending', conditions: [condition], qosClass: qosClass(containersOf(pod)) } });
    return undefined;
  }

  /** Kubelet events, except while the seed is applied: a fresh cluster starts without a backlog of them. */
  private event(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.instant) this.rt.events.record(pod, type, reason, message, 'kubelet');
  }

  private started(pod: KubeObject, r: PodRuntime): void {
    const seconds = Math.max(0, (r.startAt - r.scheduledAt) / 1000) * this.rt.timeScale;
    this.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${r.images}" in ${seconds.toFixed(3)}s (${seconds.toFixed(3)}s including waiting)`);
    for (const c of containersOf(pod)) {
      this.event(pod, 'Normal', 'Created', `Created container: ${String(c.name)}`);
      this.event(pod, 'Normal', 'Started', `Started container ${String(c.name)}`);
    }
  }

  private advance(pod: KubeObject, r: PodRuntime, b: Behaviour, now: number): void {
    const readinessDelay = () => {
      const app = containersOf(pod).find((c) => isPlainObject(c.readinessProbe));
      const probe = app && isPlainObject(app.readinessProbe) ? app.readinessProbe : undefined;
      return probe && !this.instant ? this.rt.scaledMs(num(probe.initialDelaySeconds)) : 0;
    };
    const startRunning = (at: number) => {
      r.phase = 'running';
      r.startedAt = at;
      r.readyAt = at + readinessDelay();
      r.readySince = undefined;
      r.nextAt = undefined;
    };
    const crash = (at: number) => {
      r.phase = 'crashing';
      r.startedAt = r.startedAt ?? at;
      r.terminatedAt = at;
      r.readyAt = undefined;
      r.readySince = undefined;
      // The first exit shows as Error; the kubelet restarts it after a moment, then backs off.
      r.nextAt = at + this.rt.scaledMs(r.restarts === 0 ? 1 : backoffSeconds(r.restarts));
    };
    if (r.ip === undefined && now >= r.startAt) r.ip = this.allocateIp();
    switch (r.phase) {
      case 'creating':
        if (now < r.startAt) return;
        r.ip ??= this.allocateIp();
        if (b.pullfail) {
          this.rt.events.record(pod, 'Warning', 'Failed', `Failed to pull image "${r.images}": not found`, 'kubelet');
          r.phase = 'pullfail';
          r.attempts = 1;
          r.nextAt = now + this.rt.scaledMs(1);
        } else if (b.crash) {
          this.started(pod, r);
          crash(r.startAt);
        } else {
          this.started(pod, r);
          startRunning(r.startAt);
        }
        break;
      case 'pullfail':
        if (!b.pullfail) {
          // The image can be pulled now: the next retry succeeds.
          r.phase = 'creating';
          r.startAt = now;
          r.nextAt = undefined;
          this.advance(pod, r, b, now);
        } else if (r.nextAt !== undefined && now >= r.nextAt) {
          this.rt.events.record(pod, 'Normal', 'BackOff', `Back-off pulling image "${r.images}"`, 'kubelet');
          r.attempts++;
          r.nextAt = now + this.rt.scaledMs(backoffSeconds(r.attempts));
        }
        break;
      case 'crashing':
        if (r.nextAt !== undefined && now >= r.nextAt) {
          if (b.crash) this.rt.events.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container', 'kubelet');
          r.restarts++;
          r.startedAt = now;
          if (b.crash) crash(now);
          else startRunning(now);
        }
        break;
      case 'running':
        if (b.crash) crash(now);
        break;
      default: {
        const never: never = r.phase;
        throw new Error(`unknown pod phase ${String(never)}`);
      }
    }
    // Readiness is checked after any transition above, so a container that starts with no probe delay is Ready at once.
    if (r.phase === 'running' && r.readySince === undefined && r.readyAt !== undefined && now >= r.readyAt) r.readySince = r.readyAt;
  }

  private statusFor(pod: KubeObject, r: PodRuntime): Record<string, unknown> {
    const ready = r.phase === 'running' && r.readySince !== undefined;
    const containers = containersOf(pod);
    const names = containers.map((c) => String(c.name));
    const scheduled = timestamp(r.scheduledAt);
    const readyChanged = timestamp(ready ? r.readySince! : (r.terminatedAt ?? r.startedAt ?? r.scheduledAt));
    const notReady = { reason: 'ContainersNotReady', message: `containers with unready status: [${names.join(' ')}]` };
    const conditions = [
      { type: 'PodReadyToStartContainers', status: r.ip ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: timestamp(r.ip ? r.startAt : r.scheduledAt) },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: scheduled },
      { type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: readyChanged, ...(ready ? {} : notReady) },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: readyChanged, ...(ready ? {} : notReady) },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: scheduled },
    ];
    const containerStatuses = containers.map((c) => this.containerStatus(pod, c, r, ready));
    const status: Record<string, unknown> = {
      phase: r.phase === 'running' || r.phase === 'crashing' ? 'Running' : 'Pending',
      conditions,
      hostIP: this.nodeIp(r.node),
      hostIPs: [{ ip: this.nodeIp(r.node) }],
      startTime: scheduled,
      containerStatuses,
      qosClass: qosClass(containers),
    };
    if (r.ip) {
      status.podIP = r.ip;
      status.podIPs = [{ ip: r.ip }];
    }
    return status;
  }

  private containerStatus(pod: KubeObject, c: Record<string, unknown>, r: PodRuntime, ready: boolean): Record<string, unknown> {
    const image = String(c.image ?? '');
    const base: Record<string, unknown> = { name: c.name, image, imageID: '', ready, restartCount: r.restarts, started: false };
    const containerId = () => `containerd://${fakeDigest(`${pod.metadata.uid}:${String(c.name)}:${r.restarts}`)}`;
    const imageId = `${image.split(':')[0]}@sha256:${fakeDigest(image)}`;
    switch (r.phase) {
      case 'creating':
        return { ...base, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} };
      case 'pullfail': {
        const firstAttempt = r.attempts <= 1 && r.nextAt !== undefined;
        return {
          ...base,
          state: {
            waiting: firstAttempt
              ? { reason: 'ErrImagePull', message: `failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found` }
              : { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
          },
          lastState: {},
        };
      }
      case 'running':
        return {
          ...base,
          imageID: imageId,
          containerID: containerId(),
          started: true,
          state: { running: { startedAt: timestamp(r.startedAt ?? r.startAt) } },
          lastState:
            r.restarts > 0 && r.terminatedAt !== undefined
              ? { terminated: { exitCode: 1, reason: 'Error', startedAt: timestamp(r.terminatedAt), finishedAt: timestamp(r.terminatedAt), containerID: `containerd://${fakeDigest(`${pod.metadata.uid}:${String(c.name)}:${r.restarts - 1}`)}` } }
              : {},
        };
      case 'crashing': {
        const terminated = { exitCode: 1, reason: 'Error', startedAt: timestamp(r.startedAt ?? r.terminatedAt!), finishedAt: timestamp(r.terminatedAt!), containerID: containerId() };
        if (r.restarts === 0) return { ...base, imageID: imageId, containerID: containerId(), state: { terminated }, lastState: {} };
        const backoff = backoffSeconds(r.restarts);
        return {
          ...base,
          imageID: imageId,
          containerID: containerId(),
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${backoff}s restarting failed container=${String(c.name)} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } },
          lastState: { terminated },
        };
      }
      default: {
        const never: never = r.phase;
        throw new Error(`unknown pod phase ${String(never)}`);
      }
    }
  }

  private nodeIp(node: string): string {
    const index = Math.max(0, this.options.nodes.indexOf(node));
    return `172.18.0.${index + 2}`;
  }

  private allocateIp(): string {
    const n = this.nextIp++;
    return `10.244.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
  }
}

function imagesOf(pod: KubeObject): string {
  return containersOf(pod)
    .map((c) => String(c.image ?? ''))
    .join(',');
}
