import { constants, readFileSync } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Type, type Static } from 'typebox';
import { redactUrl } from '../redact.ts';
import { toError } from '../errors.ts';
import { readDocument } from '../spec/document.ts';
import { parseDuration } from '../spec/duration.ts';
import type { SpecError } from '../spec/errors.ts';
import { DnsLabel, Duration, Labels } from '../spec/names.ts';
import type { ClusterInfo } from '../spec/plan.ts';
import { ProviderKindSchema, type ProviderKind } from '../spec/traffic.ts';
import { readConfigFile } from '../spec/config-file.ts';
import { watchReloads } from './file-watch.ts';
import { DEFAULT_CLUSTER_WIDE_ABOVE, type WatchScope } from './watch-cache.ts';

/*
 * The clusters file: which clusters exist, how to reach their API servers, which labels waves select them by, and
 * which Prometheus sees each of them. It is data, reloaded when it changes. It names kubeconfig files but holds no
 * credentials itself, and nothing here reads a kubeconfig's contents or puts a Prometheus password in a message.
 */

export const ClusterEntrySchema = Type.Object(
  {
    /** How rollout files name the cluster; unique in the file. */
    name: DnsLabel('a cluster name'),
    /** Path of the kubeconfig; a relative path is taken from the clusters file's folder. */
    kubeconfig: Type.String({
      minLength: 1,
      'x-expected': 'the path of a kubeconfig file, absolute or relative to the clusters file',
    }),
    /** Context in the kubeconfig. Absent: its current-context. */
    context: Type.Optional(Type.String({ minLength: 1 })),
    /** What wave selectors match, e.g. { region: eu, env: prod }. */
    labels: Type.Optional(Labels({ default: {} })),
    prometheus: Type.Object(
      {
        /** The Prometheus (or Thanos, Mimir) that sees this cluster; may carry basic-auth credentials. */
        url: Type.String({
          pattern: '^https?://[^\\s/?#]+[^\\s]*$',
          'x-expected': 'an http:// or https:// URL, such as http://prometheus.monitoring:9090',
        }),
        /** Deadline of one query. */
        timeout: Type.Optional(Duration({ default: '5s', minimumMs: 1 })),
        /**
         * Most queries on the wire at once to this URL, across every cluster that names it (the smallest value given
         * wins); the rest wait their turn in Oleada instead of piling up in Prometheus.
         */
        concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 10 })),
      },
      { additionalProperties: false },
    ),
    /** How this cluster moves traffic: by pod counts, a Gateway API HTTPRoute, or an Istio VirtualService. */
    traffic: Type.Optional({ ...ProviderKindSchema, default: 'replicas' }),
    /** Client-side rate limit of Kubernetes calls, as client-go's QPS. */
    qps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000, default: 20 })),
    /** Calls allowed at once above the rate, as client-go's burst. */
    burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 40 })),
    /** Deadline of one Kubernetes API call. */
    timeout: Type.Optional(Duration({ default: '10s', minimumMs: 1 })),
    /**
     * How the engine's caches watch this cluster (docs/architecture.md, "Watch caches"): `namespaces`, one watch per
     * namespace and kind (a Role per namespace is enough); `cluster`, one watch per kind for the whole cluster (needs
     * list and watch in a ClusterRole); `auto` (the default), per namespace up to `clusterWideAbove` namespaces.
     */
    watch: Type.Optional(
      Type.Object(
        {
          scope: Type.Optional(
            Type.Union([Type.Literal('auto'), Type.Literal('namespaces'), Type.Literal('cluster')], {
              default: 'auto',
              'x-expected': 'auto, namespaces or cluster',
            }),
          ),
          clusterWideAbove: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 100_000, default: 50, 'x-expected': 'a whole number of namespaces from 1 to 100000' }),
          ),
        },
        { additionalProperties: false, 'x-expected': 'a watch block such as { scope: auto, clusterWideAbove: 50 }' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ClustersFileSchema = Type.Object(
  {
    clusters: Type.Array(ClusterEntrySchema, { maxItems: 10_000, 'x-expected': 'a list of clusters' }),
  },
  { additionalProperties: false, 'x-expected': 'an object with a list of clusters: { clusters: [...] }' },
);

/** One cluster as the file says, before defaults and path resolution. */
export type ClusterEntryInput = Static<typeof ClusterEntrySchema>;

/** One cluster, ready to use: absolute kubeconfig path, defaults applied, durations in milliseconds. */
export interface ClusterEntry {
  name: string;
  /** Absolute path. */
  kubeconfig: string;
  /** Absent: the kubeconfig's current-context. */
  context?: string;
  labels: Record<string, string>;
  /** `concurrency` absent: the default of the URL's gate (prometheus-gate.ts). */
  prometheus: { url: string; timeoutMs: number; concurrency?: number };
  /** The traffic provider the cluster supports; a rollout file may force another. */
  traffic: ProviderKind;
  qps: number;
  burst: number;
  timeoutMs: number;
  /** How the watch caches watch the cluster (watch-cache.ts). */
  watch: { scope: WatchScope; clusterWideAbove: number };
}

/** A clusters file that cannot be used. The message names the file and every problem, each with its path in the file. */
export class ClustersFileError extends Error {
  override name = 'ClustersFileError';
  constructor(
    readonly file: string,
    readonly problems: SpecError[],
  ) {
    super(
      `clusters file ${file} is invalid:\n${problems
        .map((problem) => {
          const where = problem.path === '' ? '' : `${problem.path}${problem.line !== undefined ? ` (line ${problem.line})` : ''}: `;
          return `  ${where}${problem.message}`;
        })
        .join('\n')}`,
    );
  }
}

const URL_POINTER = /^\/clusters\/\d+\/prometheus\/url$/;

/**
 * Parses clusters-file text. `file` is where the text came from: relative kubeconfig paths are resolved from its
 * folder, and errors name it. Checks everything but the kubeconfig files themselves (see `loadClustersFile`).
 */
export function parseClustersFile(text: string, file: string): ClusterEntry[] {
  const path = resolve(file);
  const read = readConfigFile(text, ClustersFileSchema, {
    // A password in a Prometheus URL must not reach a log line through an error message.
    redact: (pointer, value) => (URL_POINTER.test(pointer) && typeof value === 'string' ? redactUrl(value) : value),
  });
  if (!read.ok) throw new ClustersFileError(path, read.errors);
  const { value: input, located } = read;

  const problems: SpecError[] = [];
  const seen = new Map<string, number>();
  input.clusters.forEach((cluster, index) => {
    const first = seen.get(cluster.name);
    if (first !== undefined) {
      problems.push({ path: `/clusters/${index}/name`, message: `cluster name ${cluster.name} is already used at /clusters/${first}; names must be unique` });
    } else {
      seen.set(cluster.name, index);
    }
    if (!URL.canParse(cluster.prometheus.url)) {
      problems.push({ path: `/clusters/${index}/prometheus/url`, message: `is not a valid URL: ${redactUrl(cluster.prometheus.url)}` });
    }
  });
  if (problems.length > 0) throw new ClustersFileError(path, located(problems));

  const folder = dirname(path);
  return input.clusters.map((cluster) => ({
    name: cluster.name,
    kubeconfig: isAbsolute(cluster.kubeconfig) ? cluster.kubeconfig : resolve(folder, cluster.kubeconfig),
    ...(cluster.context !== undefined ? { context: cluster.context } : {}),
    labels: cluster.labels ?? {},
    prometheus: {
      url: cluster.prometheus.url,
      timeoutMs: parseDuration(cluster.prometheus.timeout ?? '5s'),
      ...(cluster.prometheus.concurrency !== undefined ? { concurrency: cluster.prometheus.concurrency } : {}),
    },
    traffic: cluster.traffic ?? 'replicas',
    qps: cluster.qps ?? 20,
    burst: cluster.burst ?? 40,
    timeoutMs: parseDuration(cluster.timeout ?? '10s'),
    watch: { scope: cluster.watch?.scope ?? 'auto', clusterWideAbove: cluster.watch?.clusterWideAbove ?? DEFAULT_CLUSTER_WIDE_ABOVE },
  }));
}

/**
 * Reads and checks the clusters file, including that every kubeconfig file exists and can be read (its contents are
 * left to the Kubernetes client). Throws a ClustersFileError that lists every problem.
 */
export async function loadClustersFile(file: string): Promise<ClusterEntry[]> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ClustersFileError(path, [{ path: '', message: `cannot be read: ${fileProblem(err)}` }]);
  }
  const entries = parseClustersFile(text, path);
  const problems = (
    await Promise.all(
      entries.map(async (entry, index): Promise<SpecError | undefined> => {
        const problem = await kubeconfigProblem(entry.kubeconfig);
        if (problem === undefined) return undefined;
        return { path: `/clusters/${index}/kubeconfig`, message: `${problem} (relative paths are taken from ${dirname(path)})` };
      }),
    )
  ).filter((problem): problem is SpecError => problem !== undefined);
  if (problems.length > 0) {
    const document = readDocument(text, 'yaml');
    throw new ClustersFileError(path, document.ok ? problems.map((problem) => ({ ...problem, ...document.locate(problem.path) })) : problems);
  }
  return entries;
}

async function kubeconfigProblem(file: string): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return `kubeconfig ${file} is not a file`;
    await access(file, constants.R_OK);
    return undefined;
  } catch (err) {
    return `kubeconfig ${file} ${fileProblem(err)}`;
  }
}

function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return `cannot be read: ${toError(err).message}`;
}

/** What a plan needs of a cluster. */
export function toClusterInfo(entry: ClusterEntry): ClusterInfo {
  return { name: entry.name, labels: { ...entry.labels }, prometheusUrl: entry.prometheus.url, traffic: entry.traffic };
}

/** The comparison key of the file as it is now, or undefined when it cannot be read or is invalid. */
function currentKey(path: string): string | undefined {
  try {
    return JSON.stringify(parseClustersFile(readFileSync(path, 'utf8'), path));
  } catch {
    return undefined;
  }
}

export interface ClustersFileWatch {
  close(): void;
}

export interface WatchOptions {
  /** Quiet time after the last change before reloading; editors write in several steps. Default 100 ms. */
  debounceMs?: number;
  /**
   * The list the caller already has (from `loadClustersFile`), so that only a real change is reported. Without it,
   * the watcher reads the file once, before it returns, and reports changes from there.
   */
  initial?: ClusterEntry[];
}

/**
 * Reloads the clusters file when it changes and calls `onChange` with the new list, only when the list differs.
 * A bad edit calls `onError` (once per distinct problem) and keeps the last good list: the caller simply goes on
 * with what it has, and the next good save is reported as a change.
 */
export function watchClustersFile(
  file: string,
  onChange: (entries: ClusterEntry[]) => void,
  onError: (err: Error) => void,
  options: WatchOptions = {},
): ClustersFileWatch {
  const path = resolve(file);
  // Read synchronously so that the starting point is fixed before the caller's next write: a write after this call
  // returns is always reported.
  const initialKey = options.initial ? JSON.stringify(options.initial) : currentKey(path);
  return watchReloads(path, () => loadClustersFile(path), onChange, onError, { initialKey, debounceMs: options.debounceMs ?? 100 });
}
