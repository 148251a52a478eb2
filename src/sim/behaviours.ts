// How a version of the simulated app behaves: healthy, failing a fraction of requests, slow, crash-looping, or with an
// image that cannot be pulled. It comes from, in order: a run-time override (the fault API), the behaviours map given
// at start-up, the image tag's own convention (`1.2.0-errors`), or healthy. A behaviour can be limited to some
// clusters, so one version can be good in staging-eu and bad in prod-us-1.

export interface Behaviour {
  /** Fraction of requests answered with 500, 0..1. */
  errors: number;
  /** Added to every request's latency, in milliseconds. */
  latencyMs: number;
  /** Containers exit at start: never Ready, CrashLoopBackOff, restartCount climbing. */
  crash: boolean;
  /** The image never pulls: ErrImagePull / ImagePullBackOff, phase Pending. */
  pullfail: boolean;
}

export type BehaviourName = 'healthy' | 'errors' | 'slow' | 'crash' | 'pullfail';

/** What callers may pass: a name, or fields (missing ones are healthy). */
export type BehaviourSpec = BehaviourName | (Partial<Behaviour> & { clusters?: string[] });

/** Keyed by version label, image tag or whole image. A list gives different behaviours for different clusters. */
export type BehavioursMap = Record<string, BehaviourSpec | BehaviourSpec[]>;

export const HEALTHY: Readonly<Behaviour> = Object.freeze({ errors: 0, latencyMs: 0, crash: false, pullfail: false });
export const DEFAULT_ERROR_FRACTION = 0.5;
export const DEFAULT_SLOW_MS = 500;

/** Turns a spec into a full behaviour; throws on values that make no sense, naming them. */
export function toBehaviour(spec: BehaviourSpec): Behaviour {
  if (typeof spec === 'string') {
    switch (spec) {
      case 'healthy':
        return { ...HEALTHY };
      case 'errors':
        return { ...HEALTHY, errors: DEFAULT_ERROR_FRACTION };
      case 'slow':
        return { ...HEALTHY, latencyMs: DEFAULT_SLOW_MS };
      case 'crash':
        return { ...HEALTHY, crash: true };
      case 'pullfail':
        return { ...HEALTHY, pullfail: true };
      default:
        throw new Error(`unknown behaviour "${String(spec)}" (known: healthy, errors, slow, crash, pullfail)`);
    }
  }
  const errors = spec.errors ?? 0;
  const latencyMs = spec.latencyMs ?? 0;
  if (typeof errors !== 'number' || !(errors >= 0 && errors <= 1)) throw new Error(`behaviour errors must be a fraction between 0 and 1, got ${JSON.stringify(errors)}`);
  if (typeof latencyMs !== 'number' || !(latencyMs >= 0)) throw new Error(`behaviour latencyMs must be a number of milliseconds >= 0, got ${JSON.stringify(latencyMs)}`);
  return { errors, latencyMs, crash: spec.crash === true, pullfail: spec.pullfail === true };
}

/**
 * The image tag convention: dash-separated words after the version. `errors` (50 %), `errorsN` or `errors-N` (N %),
 * `slow` (+500 ms), `slowN` or `slow-N` (+N ms), `crash`, `pullfail`. Example: `2.0.0-slow-errors10`.
 * Returns undefined when the tag names no behaviour.
 */
export function behaviourFromTag(tag: string): Behaviour | undefined {
  const words = tag.toLowerCase().split('-');
  let found = false;
  const b: Behaviour = { ...HEALTHY };
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    const next = words[i + 1];
    const number = (inline: string | undefined): number | undefined => {
      if (inline !== undefined && inline !== '') return Number(inline);
      if (next !== undefined && /^\d+(\.\d+)?$/.test(next)) {
        i++;
        return Number(next);
      }
      return undefined;
    };
    let match: RegExpExecArray | null;
    if ((match = /^errors(\d+(?:\.\d+)?)?$/.exec(word))) {
      const percent = number(match[1]);
      b.errors = Math.min(1, percent === undefined ? DEFAULT_ERROR_FRACTION : percent / 100);
      found = true;
    } else if ((match = /^slow(\d+)?(?:ms)?$/.exec(word))) {
      b.latencyMs = number(match[1]) ?? DEFAULT_SLOW_MS;
      found = true;
    } else if (word === 'crash' || word === 'crashloop') {
      b.crash = true;
      found = true;
    } else if (word === 'pullfail') {
      b.pullfail = true;
      found = true;
    }
  }
  return found ? b : undefined;
}

/** `registry.example.com:5000/checkout:1.2.0@sha256:...` -> `1.2.0`; `latest` when there is no tag. */
export function imageTag(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const name = withoutDigest.slice(lastSlash + 1);
  const colon = name.lastIndexOf(':');
  return colon >= 0 ? name.slice(colon + 1) : 'latest';
}

interface Entry {
  behaviour: Behaviour;
  clusters?: string[];
}

/** The behaviours of one simulation, shared by its clusters. */
export class Behaviours {
  private readonly configured = new Map<string, Entry[]>();
  /** key -> cluster -> behaviour, set at run time */
  private readonly overrides = new Map<string, Map<string, Behaviour>>();
  private readonly listeners = new Set<(clusters: string[] | undefined) => void>();
  private changeCount = 0;

  constructor(map: BehavioursMap = {}) {
    for (const [key, value] of Object.entries(map)) {
      const specs = Array.isArray(value) ? value : [value];
      this.configured.set(
        key,
        specs.map((spec) => ({ behaviour: toBehaviour(spec), clusters: typeof spec === 'string' ? undefined : spec.clusters })),
      );
    }
  }

  /** Bumped on every change, so that callers can cache resolutions. */
  get version(): number {
    return this.changeCount;
  }

  /** Sets the behaviour of `key` (version label, image tag or image) at run time, in `clusters` (every cluster by default: pass the names). */
  set(key: string, spec: BehaviourSpec, clusters: string[]): void {
    const behaviour = toBehaviour(spec);
    let byCluster = this.overrides.get(key);
    if (!byCluster) this.overrides.set(key, (byCluster = new Map()));
    for (const cluster of clusters) byCluster.set(cluster, behaviour);
    this.changed(clusters);
  }

  /** Drops the run-time overrides of one cluster. */
  reset(cluster: string): void {
    for (const byCluster of this.overrides.values()) byCluster.delete(cluster);
    this.changed([cluster]);
  }

  onChange(listener: (clusters: string[] | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The behaviour in `cluster` of a container running `image`, in a pod whose `version` label is `version`. */
  resolve(cluster: string, image: string, version: string | undefined): Behaviour {
    const tag = imageTag(image);
    const keys = version === undefined ? [image, tag] : [image, tag, version];
    for (const key of keys) {
      const override = this.overrides.get(key)?.get(cluster);
      if (override) return override;
    }
    for (const key of keys) {
      const entries = this.configured.get(key);
      if (!entries) continue;
      const entry = entries.find((e) => e.clusters === undefined || e.clusters.includes(cluster));
      // A key that is configured only for other clusters is healthy here, whatever its tag says.
      return entry ? entry.behaviour : { ...HEALTHY };
    }
    return behaviourFromTag(tag) ?? { ...HEALTHY };
  }

  /** What is set, for the control API. */
  describe(): { configured: Record<string, Entry[]>; overrides: Record<string, Record<string, Behaviour>> } {
    return {
      configured: Object.fromEntries(this.configured),
      overrides: Object.fromEntries([...this.overrides].map(([key, byCluster]) => [key, Object.fromEntries(byCluster)])),
    };
  }

  private changed(clusters: string[] | undefined): void {
    this.changeCount++;
    for (const listener of this.listeners) listener(clusters);
  }
}
