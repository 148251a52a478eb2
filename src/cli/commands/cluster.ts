/**
 * `oleada cluster credentials`: from an admin kubeconfig, creates in one target cluster the ServiceAccount, Role and
 * RoleBinding that Oleada needs there and nothing more, asks the TokenRequest API for a token of bounded lifetime, and
 * prints the kubeconfig to store and the clusters-file entry that points at it. deploy/rbac/oleada-target.yaml holds
 * the same objects for those who apply manifests themselves; a test keeps the two equal.
 */
import { chmod, writeFile } from 'node:fs/promises';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { Type, type Static } from 'typebox';
import { stringify } from 'yaml';
import { parseClustersFile } from '../../clusters/file.ts';
import { parseDuration } from '../../spec/duration.ts';
import { DnsLabel, Duration, Labels } from '../../spec/names.ts';
import { validate } from '../../spec/validate.ts';
import { stringOption, UsageError, type Command, type ParsedArgs } from '../command.ts';

/**
 * What the `replicas` traffic provider calls (src/clusters/client.ts), per namespace Oleada deploys to:
 * - deployments: get (observe the stable and the canary), patch (server-side apply of the canary, merge patches of
 *   replicas and image), create (kube-apiserver authorises an apply that creates an object as a create too: see
 *   kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply), delete (the canary);
 * - pods: list (why a workload is not ready: crash loops, image pulls).
 * And what the gateway-api router adds (docs/traffic.md):
 * - services: get (the app's Service), create and patch (server-side apply of `<service>-stable` and
 *   `<service>-canary`), delete (those two, at finalize);
 * - httproutes: get and patch (the user's HTTPRoute, merge patches carrying its resourceVersion).
 * And the istio router: the same services, and virtualservices get and patch (the user's VirtualService, likewise).
 * Every kind read also gets list and watch: the engine reads through watch-fed caches (src/clusters/caches.ts,
 * OLEADA_WATCH_CACHE), one watch per namespace. A cluster that only ever uses `replicas` may drop the last three
 * rules; one without Istio, the last. No Secrets, no cluster-wide access. GET /version needs no grant.
 */
export const TARGET_RULES: V1PolicyRule[] = [
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get', 'list', 'watch', 'patch'] },
];
export const ROLE_NAME = 'oleada-rollouts';
const FIELD_MANAGER = 'oleada-cluster-credentials';
/** The API server refuses TokenRequests shorter than 10 minutes. */
const MIN_DURATION_MS = 10 * 60_000;
const CALL_TIMEOUT_MS = 15_000;

const USAGE = `Usage: oleada cluster credentials NAME --namespace NS[,NS...] [options]

Run with an admin kubeconfig for the target cluster. Creates (or updates) there:
  - the ServiceAccount ACCOUNT in ACCOUNT_NAMESPACE (default: the first --namespace),
  - in each --namespace, the Role ${ROLE_NAME} (get, list, watch, create, patch, delete
    deployments and services; list, watch pods; get, list, watch, patch httproutes and
    virtualservices) and a RoleBinding
    of it to that account,
then requests a token for the account with the TokenRequest API, valid for --duration. It prints the clusters-file
entry for NAME and the kubeconfig Oleada should use (or writes the kubeconfig to --kubeconfig-out, mode 0600).
Run it again before the token expires to rotate it (docs/operations.md).

  --namespace LIST          namespaces Oleada deploys to in this cluster, comma-separated (required)
  --kubeconfig FILE         the admin kubeconfig (default: $KUBECONFIG or ~/.kube/config)
  --context NAME            its context (default: the current context)
  --account NAME            the ServiceAccount (default: oleada)
  --account-namespace NS    where the ServiceAccount lives (default: the first --namespace)
  --duration D              the token's lifetime, at least 10m (default: 168h); the API server may shorten it
  --prometheus URL          the Prometheus that sees this cluster, for the clusters-file entry (required)
  --labels k=v,...          labels for the clusters-file entry, e.g. region=eu,env=prod
  --kubeconfig-path PATH    where Oleada will find the kubeconfig (default: /etc/oleada/kubeconfigs/NAME.yaml,
                            the chart's mount of secrets.kubeconfigs)
  --kubeconfig-out FILE     write the kubeconfig there instead of printing it`;

const OptionsSchema = Type.Object({
  name: DnsLabel('a cluster name'),
  namespaces: Type.Array(DnsLabel('a namespace'), { minItems: 1, 'x-expected': 'at least one namespace' }),
  account: DnsLabel('a ServiceAccount name'),
  accountNamespace: DnsLabel('a namespace'),
  duration: Duration({ minimumMs: MIN_DURATION_MS }),
  prometheus: Type.String({ pattern: '^https?://[^\\s]+$', 'x-expected': 'an http:// or https:// URL' }),
  labels: Labels(),
  kubeconfigPath: Type.String({ minLength: 1 }),
});
type Options = Static<typeof OptionsSchema>;

/** The checked options of `cluster credentials`; a UsageError names every bad one. */
export function readOptions(args: ParsedArgs): Options {
  const [sub, name, ...rest] = args.positionals;
  if (sub !== 'credentials') throw new UsageError('the only sub-command is `cluster credentials NAME`');
  if (name === undefined || rest.length > 0) throw new UsageError('give exactly one cluster NAME after `credentials`');
  const namespaces = (stringOption(args, 'namespace') ?? '').split(',').filter((ns) => ns !== '');
  const labels: Record<string, string> = {};
  for (const pair of (stringOption(args, 'labels') ?? '').split(',').filter((p) => p !== '')) {
    const [key, value, extra] = pair.split('=');
    if (key === undefined || value === undefined || extra !== undefined) throw new UsageError(`--labels takes key=value pairs, got "${pair}"`);
    labels[key] = value;
  }
  const input = {
    name,
    namespaces,
    account: stringOption(args, 'account') ?? 'oleada',
    accountNamespace: stringOption(args, 'account-namespace') ?? namespaces[0] ?? '',
    duration: stringOption(args, 'duration') ?? '168h',
    prometheus: stringOption(args, 'prometheus') ?? '',
    labels,
    kubeconfigPath: stringOption(args, 'kubeconfig-path') ?? `/etc/oleada/kubeconfigs/${name}.yaml`,
  };
  const { errors } = validate(OptionsSchema, input);
  if (errors.length > 0) {
    const flag: Record<string, string> = { name: 'NAME', namespaces: '--namespace', accountNamespace: '--account-namespace', kubeconfigPath: '--kubeconfig-path' };
    throw new UsageError(
      errors
        .map((e) => {
          const field = e.path.split('/')[1] ?? '';
          return `${flag[field] ?? `--${field}`}: ${e.message}`;
        })
        .join('\n'),
    );
  }
  return input;
}

/** One admin call, with a deadline (client-node takes none) and an error that says which object and why. */
async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CALL_TIMEOUT_MS / 1000} s`)), CALL_TIMEOUT_MS);
  });
  try {
    return await Promise.race([run(), deadline]);
  } catch (err) {
    if (err instanceof ApiException) {
      let message = '';
      try {
        message = (JSON.parse(String(err.body)) as { message?: string }).message ?? '';
      } catch {
        // Not a Status object: the code alone must do.
      }
      const hint =
        err.code === 403 ? ' (the kubeconfig given must be allowed to manage ServiceAccounts, Roles and RoleBindings)' : err.code === 404 ? ' (does the namespace exist?)' : '';
      throw new Error(`${what}: the API server answered ${err.code}${message ? `: ${message}` : ''}${hint}`, { cause: err });
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export interface IssuedCredentials {
  /** The kubeconfig Oleada should use: one cluster, one context and one user, all named after the cluster. */
  kubeconfig: object;
  /** The clusters-file entry, checked against the clusters-file schema. */
  entry: object;
  expiresAt: string;
}

/** Creates the account and its grants in the cluster that `admin` points at, and issues a token for it. */
export async function issueCredentials(admin: KubeConfig, options: Options): Promise<IssuedCredentials> {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new UsageError(`the context "${admin.getCurrentContext()}" names no cluster in the kubeconfig`);
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const { account, accountNamespace } = options;
  const labels = { 'app.kubernetes.io/managed-by': 'oleada', 'app.kubernetes.io/name': 'oleada' };

  await call(`ServiceAccount ${accountNamespace}/${account}`, () =>
    core.patchNamespacedServiceAccount(
      {
        name: account,
        namespace: accountNamespace,
        fieldManager: FIELD_MANAGER,
        force: true,
        // Oleada runs outside this cluster; no pod here should ever mount this account's token.
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: accountNamespace, labels }, automountServiceAccountToken: false },
      },
      apply,
    ),
  );
  for (const namespace of options.namespaces) {
    await call(`Role ${namespace}/${ROLE_NAME}`, () =>
      rbac.patchNamespacedRole(
        {
          name: ROLE_NAME,
          namespace,
          fieldManager: FIELD_MANAGER,
          force: true,
          body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: ROLE_NAME, namespace, labels }, rules: TARGET_RULES },
        },
        apply,
      ),
    );
    await call(`RoleBinding ${namespace}/${ROLE_NAME}`, () =>
      rbac.patchNamespacedRoleBinding(
        {
          name: ROLE_NAME,
          namespace,
          fieldManager: FIELD_MANAGER,
          force: true,
          body: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: ROLE_NAME, namespace, labels },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ROLE_NAME },
            subjects: [{ kind: 'ServiceAccount', name: account, namespace: accountNamespace }],
          },
        },
        apply,
      ),
    );
  }
  const issued = await call(`TokenRequest for ServiceAccount ${accountNamespace}/${account}`, () =>
    core.createNamespacedServiceAccountToken({
      name: account,
      namespace: accountNamespace,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: Math.round(parseDuration(options.duration) / 1000) } },
    }),
  );
  const token = issued.status?.token;
  if (!token) throw new Error(`TokenRequest for ServiceAccount ${accountNamespace}/${account}: the answer carries no token`);
  const expiresAt = new Date(issued.status!.expirationTimestamp).toISOString();

  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: options.name,
        cluster: {
          server: cluster.server,
          ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
          ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
          ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
        },
      },
    ],
    users: [{ name: options.name, user: { token } }],
    contexts: [{ name: options.name, context: { cluster: options.name, user: options.name, namespace: options.namespaces[0] } }],
    'current-context': options.name,
  };
  const entry = {
    name: options.name,
    kubeconfig: options.kubeconfigPath,
    context: options.name,
    ...(Object.keys(options.labels).length > 0 ? { labels: options.labels } : {}),
    prometheus: { url: options.prometheus },
  };
  // The entry must be one the clusters file accepts; a mistake here would only show when Oleada reloads the file.
  parseClustersFile(stringify({ clusters: [entry] }), '/etc/oleada/config/clusters.yaml');
  return { kubeconfig, entry, expiresAt };
}

function loadAdminKubeConfig(args: ParsedArgs): KubeConfig {
  const admin = new KubeConfig();
  const file = stringOption(args, 'kubeconfig');
  try {
    if (file) admin.loadFromFile(file);
    else admin.loadFromDefault();
  } catch (err) {
    throw new UsageError(`cannot read the admin kubeconfig ${file ?? '($KUBECONFIG or ~/.kube/config)'}: ${(err as Error).message}`);
  }
  const context = stringOption(args, 'context');
  if (context) {
    if (!admin.getContextObject(context)) throw new UsageError(`the kubeconfig has no context "${context}" (known: ${admin.getContexts().map((c) => c.name).join(', ')})`);
    admin.setCurrentContext(context);
  }
  return admin;
}

export const clusterCommand: Command = {
  name: 'cluster',
  summary: "make least-privilege credentials for a target cluster and its clusters-file entry",
  usage: USAGE,
  allowPositionals: true,
  options: {
    namespace: { type: 'string', short: 'n' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    account: { type: 'string' },
    'account-namespace': { type: 'string' },
    duration: { type: 'string' },
    prometheus: { type: 'string' },
    labels: { type: 'string' },
    'kubeconfig-path': { type: 'string' },
    'kubeconfig-out': { type: 'string' },
  },
  async run(args) {
    const options = readOptions(args);
    const admin = loadAdminKubeConfig(args);
    const issued = await issueCredentials(admin, options);
    const out = stringOption(args, 'kubeconfig-out');
    const note = `# The token expires at ${issued.expiresAt}: run this command again before then (docs/operations.md).`;
    console.log(`# Add under \`clusters:\` in the clusters file:\n${stringify([issued.entry]).trimEnd()}`);
    if (out) {
      await writeFile(out, stringify(issued.kubeconfig), { mode: 0o600 });
      await chmod(out, 0o600);
      console.log(`# The kubeconfig is in ${out}; store it as key ${options.name}.yaml of the Secret named by secrets.kubeconfigs.\n${note}`);
    } else {
      console.log(`---\n# The kubeconfig: store it as key ${options.name}.yaml of the Secret named by secrets.kubeconfigs.\n${note}\n${stringify(issued.kubeconfig).trimEnd()}`);
    }
    return 0;
  },
};
