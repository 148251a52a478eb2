// One simulated cluster, wired: store, controllers, kubelet, garbage collector, traffic and metrics, faults, audit,
// and its two listeners (the Kubernetes API, and plain-HTTP /metrics for Prometheus).
import { randomBytes } from 'node:crypto';
import { AuditLog, type AuditEntry } from './audit.ts';
import { RbacAuthorizer } from './auth/rbac.ts';
import { AuthApi } from './auth/reviews.ts';
import { TokenAuthenticator } from './auth/tokens.ts';
import type { Behaviours, BehaviourSpec } from './behaviours.ts';
import { bootstrapCluster, nodeNames } from './bootstrap.ts';
import { DeploymentController } from './deployment/controller.ts';
import { Disruption } from './disruption.ts';
import { EndpointsController } from './endpoints.ts';
import { ApiError } from './errors.ts';
import { EventRecorder } from './events.ts';
import { Faults, type OpenWatch } from './faults.ts';
import { GarbageCollector } from './gc.ts';
import { ApiServer } from './http.ts';
import { HpaController } from './hpa.ts';
import { Kubelet } from './kubelet.ts';
import { TrafficMetrics } from './metrics.ts';
import { MetricsServer } from './metricsserver.ts';
import type { KubeObject } from './objects.ts';
import { ReplicaSetController } from './replicasets.ts';
import { apiVersionOf, BUILTIN_RESOURCES, coreTypes, ResourceRegistry, type ResourceType } from './resources.ts';
import { RestApi } from './rest.ts';
import { num, parseWorkKey, specOf, statusOf, type ClusterRuntime } from './runtime.ts';
import { podLog } from './podlogs.ts';
import { orderSeed } from './seed.ts';
import { ServiceAccountController } from './serviceaccounts.ts';
import { ObjectStore } from './store.ts';
import type { TlsMaterial } from './tls.ts';
import { TrafficSimulator, type HeaderTraffic } from './traffic.ts';
import { RouteStatusController } from './route-status.ts';
import { WorkQueue } from './workqueue.ts';

export interface ClusterOptions {
  name: string;
  labels: Record<string, string>;
  behaviours: Behaviours;
  /** Every cluster of the simulation, for behaviours set "everywhere". */
  allClusters: () => string[];
  timeScale: number;
  trafficRate: number;
  seed: KubeObject[];
  startDelaySeconds: number;
  tls?: TlsMaterial;
  port?: number;
  metricsPort?: number;
  watchHistory?: number;
  /** Freeze stored objects (tests), so accidental mutation throws. */
  freeze?: boolean;
}

/** Run-time fault controls of one cluster. */
export interface FaultControls {
  /** Delays every Kubernetes API call by `ms`. */
  setApiLatency(ms: number): void;
  /** Answers this fraction of Kubernetes API calls with 500 (deterministically: 0.25 fails every fourth call). */
  failFraction(fraction: number): void;
  /** Closes the API listener (connections get ECONNREFUSED) and reopens it on the same port after `ms`. Resolves once closed. */
  refuseFor(ms: number): Promise<void>;
  /** Sets the behaviour of a version label, image tag or image in `clusters` (this cluster by default). */
  setBehaviour(versionOrTag: string, behaviour: BehaviourSpec, clusters?: string[]): void;
  /** Cuts every open watch connection; returns how many there were. */
  cutWatches(): number;
  /** The watches open right now: resource and namespace (absent for a cluster-wide watch). */
  openWatches(): OpenWatch[];
  /** Answers the next `count` watches that resume from a resourceVersion with 410 Gone. */
  expireResumes(count?: number): void;
  /** Makes an HTTPRoute or VirtualService (every one, without `route`) not Accepted with this message; null undoes it. */
  rejectRoutes(message: string | null, route?: { namespace: string; name: string }): void;
  /** Holds every write of these resources (`services`, `httproutes.gateway.networking.k8s.io`) until called with []. */
  holdWrites(resources: string[]): void;
  /** Clears latency, failures and this cluster's run-time behaviours, and ends a refusal. */
  reset(): Promise<void>;
}

export interface SimCluster {
  readonly name: string;
  readonly labels: Record<string, string>;
  /** https://127.0.0.1:port with --tls, http://127.0.0.1:port otherwise. */
  readonly url: string;
  /** The admin token (group system:masters): allowed everything, as the default kubeconfig context. */
  readonly token: string;
  /** A token for a user in some groups (system:authenticated is added); what it may do is up to RBAC. */
  addUserToken(username: string, groups?: string[]): string;
  /** http://127.0.0.1:port/metrics, what Prometheus scrapes. */
  readonly metricsUrl: string;
  readonly timeScale: number;
  readonly faults: FaultControls;
  /** Every write request so far (oldest first); `since` (epoch ms) keeps the later ones. */
  audit(since?: number): AuditEntry[];
  clearAudit(): void;
  /** An object from the store, or undefined. `resource` is `apps/v1/Deployment`, `v1/Pod`, `Deployment`, or `deployments`. */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(resource: string, namespace?: string): KubeObject[];
  setTrafficRate(requestsPerSecond: number): void;
  /** Makes these shares of every Service's or route's requests carry headers (traffic.ts); [] for none. */
  setHeaderTraffic(classes: HeaderTraffic[]): void;
  /** The current metrics exposition text. */
  metrics(): string;
  /** Resolves when the controllers have nothing queued (delayed work, such as a pod still starting, does not count). */
  settled(): Promise<void>;
}

export class Cluster implements SimCluster {
  readonly token = randomBytes(24).toString('hex');
  readonly store: ObjectStore;
  readonly resources = new ResourceRegistry(BUILTIN_RESOURCES);
  readonly rest: RestApi;
  readonly runtime: ClusterRuntime;
  private readonly queue: WorkQueue;
  private readonly kubelet: Kubelet;
  private readonly deployments: DeploymentController;
  private readonly replicasets: ReplicaSetController;
  private readonly gc: GarbageCollector;
  private readonly serviceAccounts: ServiceAccountController;
  private readonly endpoints: EndpointsController;
  private readonly hpas: HpaController;
  private readonly disruption: Disruption;
  private readonly routes: RouteStatusController;
  private readonly authenticator: TokenAuthenticator;
  private readonly traffic: TrafficSimulator;
  private readonly trafficMetrics = new TrafficMetrics();
  private readonly faultState = new Faults();
  private readonly auditLog = new AuditLog();
  private readonly api: ApiServer;
  private readonly metricsServer: MetricsServer;
  private unsubscribes: (() => void)[] = [];
  readonly faults: FaultControls;

  constructor(private readonly options: ClusterOptions) {
    const now = Date.now;
    this.store = new ObjectStore({ historySize: options.watchHistory, freeze: options.freeze, now });
    this.rest = new RestApi(this.store, this.resources, now);
    this.queue = new WorkQueue((key) => this.work(key), {
      onError: (key, err) => {
        // A controller that lost a race (409) simply tries again, as real controllers requeue.
        if (err instanceof ApiError && err.code === 409) this.queue.addAfter(key, 5);
        else console.error(`kube-sim: ${options.name}: ${key.replaceAll('\u0000', '/')} failed`, err);
      },
    });
    const types = coreTypes(this.resources);
    this.runtime = {
      cluster: options.name,
      store: this.store,
      resources: this.resources,
      queue: this.queue,
      behaviours: options.behaviours,
      timeScale: options.timeScale,
      now,
      scaledMs: (seconds) => (seconds * 1000) / options.timeScale,
      types,
      events: new EventRecorder({ store: this.store, types, now, scaledMs: (seconds) => (seconds * 1000) / options.timeScale }),
    };
    this.kubelet = new Kubelet(this.runtime, { startDelaySeconds: options.startDelaySeconds, nodes: nodeNames(options.name) });
    this.replicasets = new ReplicaSetController(this.runtime, (pod) => this.kubelet.readySince(pod));
    this.deployments = new DeploymentController(this.runtime, (namespace, name) => this.replicasets.reconcile(namespace, name));
    this.gc = new GarbageCollector(this.runtime);
    this.serviceAccounts = new ServiceAccountController(this.runtime);
    const byKey = (key: string) => this.resources.byKey(key)!;
    this.endpoints = new EndpointsController(this.runtime, { endpoints: byKey('endpoints'), endpointslices: byKey('endpointslices.discovery.k8s.io') });
    this.hpas = new HpaController(this.runtime, byKey('horizontalpodautoscalers.autoscaling'));
    this.disruption = new Disruption(this.runtime, byKey('poddisruptionbudgets.policy'));
    this.routes = new RouteStatusController(this.runtime);
    this.metricsServer = new MetricsServer(options.name, () => this.metrics());
    this.traffic = new TrafficSimulator(this.runtime, (pod) => this.kubelet.behaviourOf(pod), this.trafficMetrics, { rate: options.trafficRate });
    const authorizer = new RbacAuthorizer(this.store, this.resources);
    this.unsubscribes.push(
      this.store.subscribe((event) => {
        this.gc.observe(event);
        this.serviceAccounts.observe(event);
        this.endpoints.observe(event);
        this.hpas.observe(event);
        this.disruption.observe(event);
        this.routes.observe(event);
        authorizer.observe(event);
        this.deployments.observe(event);
        this.replicasets.observe(event);
        this.kubelet.observe(event);
        this.traffic.observe(event);
      }),
      options.behaviours.onChange((clusters) => {
        if (clusters === undefined || clusters.includes(options.name)) this.kubelet.resyncAll();
      }),
    );

    this.authenticator = new TokenAuthenticator(this.token, (namespace, name) => this.store.get(types.serviceaccounts, namespace, name)?.metadata.uid);
    this.api = new ApiServer({
      cluster: options.name,
      authenticator: this.authenticator,
      authorizer,
      auth: new AuthApi(this.authenticator, authorizer, this.store, this.resources, now),
      store: this.store,
      resources: this.resources,
      rest: this.rest,
      faults: this.faultState,
      audit: this.auditLog,
      tls: options.tls,
      now,
      evict: (namespace, name) => this.disruption.evict(namespace, name),
      podLog: (pod, query) => podLog(this.name, pod, this.kubelet.behaviourOf(pod), query),
      control: {
        info: () => ({ name: this.name, labels: this.labels, url: this.url, metricsUrl: this.metricsUrl, timeScale: this.timeScale, trafficRate: this.traffic.ratePerSecond, revision: this.store.currentRevision }),
        audit: (since) => this.audit(since),
        clearAudit: () => this.clearAudit(),
        faultSettings: () => this.faultState.settings,
        setApiLatency: (ms) => this.faults.setApiLatency(ms),
        failFraction: (f) => this.faults.failFraction(f),
        refuseFor: (ms) => this.faults.refuseFor(ms),
        setBehaviour: (key, behaviour, clusters) => this.faults.setBehaviour(key, behaviour, clusters),
        behaviours: () => options.behaviours.describe(),
        trafficRate: () => this.traffic.ratePerSecond,
        setTrafficRate: (rate) => this.setTrafficRate(rate),
        headerTraffic: () => this.traffic.headerShares,
        setHeaderTraffic: (classes) => this.traffic.setHeaderTraffic(classes),
        rejectedRoutes: () => this.routes.refusals(),
        rejectRoutes: (message, route) => this.faults.rejectRoutes(message, route),
        holdWrites: (resources) => this.faults.holdWrites(resources),
        reset: () => this.faults.reset(),
      },
    });

    this.faults = {
      setApiLatency: (ms) => this.faultState.setApiLatency(ms),
      failFraction: (f) => this.faultState.failFraction(f),
      refuseFor: (ms) => this.api.refuseFor(ms),
      cutWatches: () => this.faultState.cutWatches(),
      openWatches: () => this.faultState.openWatches(),
      expireResumes: (count) => this.faultState.expireResumes(count),
      setBehaviour: (key, behaviour, clusters) => {
        const unknown = (clusters ?? []).filter((c) => !options.allClusters().includes(c));
        if (unknown.length > 0) throw new Error(`unknown cluster ${unknown.join(', ')} (known: ${options.allClusters().join(', ')})`);
        options.behaviours.set(key, behaviour, clusters ?? [options.name]);
      },
      rejectRoutes: (message, route) => this.routes.reject(message, route),
      holdWrites: (resources) => this.faultState.holdWrites(resources),
      reset: async () => {
        this.faultState.reset();
        this.routes.reset();
        options.behaviours.reset(options.name);
        await this.api.reopen();
      },
    };
  }

  get name(): string {
    return this.options.name;
  }

  get labels(): Record<string, string> {
    return this.options.labels;
  }

  get url(): string {
    return this.api.url;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsServer.port}/metrics`;
  }

  get metricsAddress(): string {
    return `127.0.0.1:${this.metricsServer.port}`;
  }

  get timeScale(): number {
    return this.options.timeScale;
  }

  /** Creates the built-in objects and the seed, waits until seeded Deployments are available, then starts serving. */
  async start(): Promise<void> {
    await this.prepare();
    await this.api.listen(this.options.port ?? 0);
    await this.metricsServer.listen(this.options.metricsPort ?? 0);
    this.traffic.start();
  }

  /** Everything but the listeners and the traffic timer: enough for the controllers to run (unit tests use this). */
  async prepare(): Promise<void> {
    bootstrapCluster(this.runtime, this.rest, this.resources);
    await this.applySeed();
  }

  /** Moves the traffic counters on to `now` (tests drive traffic by hand instead of by timer). */
  driveTraffic(now?: number): void {
    this.traffic.tick(now);
  }

  addUserToken(username: string, groups: string[] = []): string {
    return this.authenticator.addUser(username, groups);
  }

  audit(since?: number): AuditEntry[] {
    return this.auditLog.list(since);
  }

  clearAudit(): void {
    this.auditLog.clear();
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const type = this.resolveType(resource);
    return this.store.get(type, type.namespaced ? namespace : undefined, name);
  }

  list(resource: string, namespace?: string): KubeObject[] {
    return this.store.list(this.resolveType(resource), namespace);
  }

  setTrafficRate(requestsPerSecond: number): void {
    this.traffic.setRate(requestsPerSecond);
  }

  setHeaderTraffic(classes: HeaderTraffic[]): void {
    this.traffic.setHeaderTraffic(classes);
  }

  metrics(): string {
    this.traffic.tick();
    return this.trafficMetrics.render();
  }

  settled(): Promise<void> {
    return this.queue.idle();
  }

  async close(): Promise<void> {
    this.traffic.stop();
    this.queue.close();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    await this.api.close();
    await this.metricsServer.close();
  }

  private work(key: string): void {
    const { controller, namespace, name } = parseWorkKey(key);
    switch (controller) {
      case 'deploy':
        this.deployments.reconcile(namespace, name);
        break;
      case 'rs':
        this.replicasets.reconcile(namespace, name);
        break;
      case 'pod':
        this.kubelet.reconcile(namespace, name);
        break;
      case 'gc':
        this.gc.collect(namespace, name);
        break;
      case 'sa':
        this.serviceAccounts.reconcile(name);
        break;
      case 'ep':
        this.endpoints.reconcile(namespace, name);
        break;
      case 'hpa':
        this.hpas.reconcile(namespace, name);
        break;
      case 'pdb':
        this.disruption.reconcile(namespace, name);
        break;
      case 'httproute':
        this.routes.reconcileHttpRoute(namespace, name);
        break;
      case 'virtualservice':
        this.routes.reconcileVirtualService(namespace, name);
        break;
      case 'finalize':
        this.gc.finalize(namespace, name);
        break;
      case 'purge':
        this.gc.purge(name);
        break;
      default:
        throw new Error(`no controller for work key ${key}`);
    }
  }

  private resolveType(resource: string): ResourceType {
    const slash = resource.lastIndexOf('/');
    if (slash > 0) {
      const found = this.resources.byKind(resource.slice(0, slash), resource.slice(slash + 1));
      if (found) return found;
    }
    const lower = resource.toLowerCase();
    for (const type of this.resources.all()) {
      if (type.key === resource || type.plural === lower || type.kind.toLowerCase() === lower || type.shortNames.includes(lower)) return type;
    }
    throw new Error(`kube-sim: unknown resource "${resource}" (use apiVersion/Kind such as apps/v1/Deployment, or a plural such as deployments)`);
  }

  private async applySeed(): Promise<void> {
    this.kubelet.instant = true;
    try {
      for (const obj of orderSeed(this.options.seed)) {
        const type = this.resources.byKind(obj.apiVersion, obj.kind);
        if (!type) throw new Error(`kube-sim seed for ${this.name}: no resource serves ${obj.apiVersion} ${obj.kind} (is its CRD in the seed?)`);
        const namespace = type.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
        try {
          this.rest.create(type, namespace, obj, { version: apiVersionOf(type).split('/').pop()!, fieldManager: 'kube-sim-seed' });
        } catch (err) {
          if (err instanceof ApiError) throw new Error(`kube-sim seed for ${this.name}: ${obj.kind} ${namespace ? `${namespace}/` : ''}${obj.metadata.name}: ${err.message}`, { cause: err });
          throw err;
        }
      }
      // Seeded apps start out settled: their pods are Ready before the API answers its first request. A seeded
      // version that never becomes available (crash, pullfail) must not hold the start-up: once a round of work
      // changes nothing, what is left waits on timers.
      const deadline = Date.now() + 10_000;
      let revision = -1;
      while (Date.now() < deadline && revision !== this.store.currentRevision) {
        revision = this.store.currentRevision;
        await this.queue.idle();
        if (this.seedSettled()) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.kubelet.instant = false;
    }
  }

  private seedSettled(): boolean {
    for (const d of this.store.each(this.runtime.types.deployments)) {
      const replicas = num(specOf(d).replicas);
      const status = statusOf(d);
      if (num(status.availableReplicas) < replicas || num(status.updatedReplicas) !== replicas || num(status.observedGeneration) < num(d.metadata.generation)) return false;
    }
    return true;
  }
}
