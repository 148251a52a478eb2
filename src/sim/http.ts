// One cluster's API server over HTTP(S): bearer-token authentication, injected faults, the write audit, and the
// translation of Kubernetes REST requests into RestApi calls, lists, tables and watches. node:http directly, not a
// framework: the hot path (GET of one object) is a lookup and a cached JSON string.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { preciseNow, type AuditEntry, type AuditLog } from './audit.ts';
import { handleControl, type ControlTarget } from './control.ts';
import { coreVersions, group, groupList, resourceList, versionInfo } from './discovery.ts';
import { ApiError, badRequest, internalError, methodNotAllowed, unauthorized, type Status } from './errors.ts';
import type { Faults } from './faults.ts';
import type { KubeObject } from './objects.ts';
import { isWriteMethod, parseRequest, type ResourceRequest } from './requestinfo.ts';
import { openApiGroupVersion, openApiIndex } from './openapi.ts';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.ts';
import { parseBody, type DeleteOptions, type RestApi } from './rest.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { ObjectStore } from './store.ts';
import { toTable, type IncludeObject } from './tables.ts';
import type { TlsMaterial } from './tls.ts';
import { serveWatch } from './watch.ts';

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface ApiServerOptions {
  cluster: string;
  token: string;
  store: ObjectStore;
  resources: ResourceRegistry;
  rest: RestApi;
  faults: Faults;
  audit: AuditLog;
  control: ControlTarget;
  tls?: TlsMaterial;
  now: () => number;
  /** Serves `kubectl logs`: a few lines about the pod. */
  podLog: (pod: KubeObject) => string;
}

/** Stored objects never change, so each one is serialised at most once. */
const jsonCache = new WeakMap<object, string>();

function toJson(obj: object): string {
  let json = jsonCache.get(obj);
  if (json === undefined) {
    json = JSON.stringify(obj);
    jsonCache.set(obj, json);
  }
  return json;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

function sendStatus(res: ServerResponse, status: Status): void {
  send(res, status.code, JSON.stringify(status));
}

interface Negotiated {
  table: boolean;
  partial: boolean;
}

/** Reads the first acceptable media type: kubectl asks for a Table first and plain JSON as a fallback. */
function negotiate(accept: string | undefined): Negotiated {
  const first = (accept ?? '').split(',')[0] ?? '';
  return { table: /as=Table/i.test(first), partial: /as=PartialObjectMetadata/i.test(first) };
}

export class ApiServer {
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private refuseTimer: NodeJS.Timeout | undefined;
  private refusing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: ApiServerOptions) {
    this.server = this.createServer();
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get listeningPort(): number {
    return this.port;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`kube-sim: cluster ${this.options.cluster} cannot listen on 127.0.0.1:${port}: ${err.message}`, { cause: err }));
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address && typeof address === 'object') this.port = address.port;
        resolve();
      });
    });
  }

  /** Closes the listener and every connection so clients get ECONNREFUSED, then listens again on the same port. */
  refuseFor(ms: number): Promise<void> {
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    this.refuseTimer = setTimeout(() => {
      this.reopen().catch((err: unknown) => console.error(`kube-sim: ${this.options.cluster}: could not listen again after refusing connections`, err));
    }, ms);
    if (!this.refusing) this.refusing = this.stopListening();
    return this.refusing;
  }

  /** Ends a refusal early (reset). */
  async reopen(): Promise<void> {
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    this.refuseTimer = undefined;
    if (!this.refusing) return;
    await this.refusing;
    this.refusing = undefined;
    if (this.closed) return;
    this.server = this.createServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    this.refuseTimer = undefined;
    if (this.refusing) await this.refusing;
    else await this.stopListening();
  }

  private stopListening(): Promise<void> {
    const server = this.server;
    return new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
    });
  }

  private createServer(): Server {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        console.error(`kube-sim: ${this.options.cluster}: unexpected error serving ${req.method} ${req.url}`, err);
        if (!res.headersSent) sendStatus(res, internalError(String(err)).toStatus());
        else res.destroy();
      });
    };
    const server = this.options.tls ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert }, handler) : createHttpServer(handler);
    // Idle keep-alive connections close soon, so a client that is done leaves no open socket behind for long.
    server.keepAliveTimeout = 3_000;
    server.on(this.options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    return header !== undefined && header === `Bearer ${this.options.token}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = preciseNow();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const queryString = q < 0 ? '' : rawUrl.slice(q + 1);
    const query = new URLSearchParams(queryString);
    const method = req.method ?? 'GET';

    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      send(res, 200, 'ok', 'text/plain; charset=utf-8');
      return;
    }

    const parsed = path.startsWith('/_sim') ? undefined : parseRequest(method, path, query.get('watch') === 'true' || query.get('watch') === '1');
    let entry: AuditEntry | undefined;
    if (isWriteMethod(method) && parsed) {
      const resource = parsed.kind === 'resource' ? parsed : undefined;
      entry = this.options.audit.add({
        time: arrived,
        verb: resource?.verb ?? method.toLowerCase(),
        method,
        path,
        query: queryString,
        contentType: req.headers['content-type'],
        fieldManager: query.get('fieldManager') ?? undefined,
        userAgent: req.headers['user-agent'],
        status: 0,
        namespace: resource?.namespace,
        resource: resource ? (resource.group ? `${resource.resource}.${resource.group}` : resource.resource) : undefined,
        name: resource?.name,
        subresource: resource?.subresource,
        dryRun: query.get('dryRun') === 'All',
      });
      const record = entry;
      res.on('finish', () => (record.status = res.statusCode));
      res.on('close', () => (record.status = record.status || res.statusCode));
    }

    if (!this.authorized(req)) {
      sendStatus(res, unauthorized().toStatus());
      return;
    }

    if (!parsed) {
      const body = isWriteMethod(method) ? await readBody(req) : '';
      const answer = await handleControl(this.options.control, method, path, query, body);
      send(res, answer.status, JSON.stringify(answer.body));
      if (answer.after) {
        const after = answer.after;
        res.on('finish', () => after().catch((err: unknown) => console.error(`kube-sim: ${this.options.cluster}: ${path} failed`, err)));
      }
      return;
    }

    try {
      const latency = this.options.faults.apiLatencyMs;
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      if (this.options.faults.shouldFail()) throw internalError('kube-sim injected fault (failFraction)');
      if (path === '/openapi' || path.startsWith('/openapi/')) {
        this.serveOpenApi(res, path);
        return;
      }
      switch (parsed.kind) {
        case 'version':
          send(res, 200, JSON.stringify(versionInfo()));
          return;
        case 'core-versions':
          send(res, 200, JSON.stringify(coreVersions(`127.0.0.1:${this.port}`)));
          return;
        case 'groups':
          send(res, 200, JSON.stringify(groupList(this.options.resources)));
          return;
        case 'group': {
          const found = group(this.options.resources, parsed.group);
          if (!found) throw notFoundPath();
          send(res, 200, JSON.stringify(found));
          return;
        }
        case 'resources': {
          const found = resourceList(this.options.resources, parsed.group, parsed.version);
          if (!found) throw notFoundPath();
          send(res, 200, JSON.stringify(found));
          return;
        }
        case 'unknown':
          throw notFoundPath();
        case 'resource':
          await this.serveResource(req, res, parsed, query);
          return;
        default: {
          const never: never = parsed;
          throw new Error(`unhandled request ${JSON.stringify(never)}`);
        }
      }
    } catch (err) {
      if (err instanceof ApiError) {
        sendStatus(res, err.toStatus());
        return;
      }
      throw err;
    }
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, r: ResourceRequest, query: URLSearchParams): Promise<void> {
    const { resources, rest } = this.options;
    const type = resources.find(r.group, r.version, r.resource);
    if (!type) throw notFoundPath();
    if (r.namespace !== undefined && !type.namespaced) throw notFoundPath();
    if (r.subresource !== undefined && !this.hasSubresource(type, r.subresource)) throw notFoundPath();
    const namespace = type.namespaced ? r.namespace : undefined;
    const dryRunParam = query.get('dryRun');
    if (dryRunParam !== null && dryRunParam !== 'All' && dryRunParam !== '') throw badRequest(`Invalid dry run value: ${dryRunParam}; the only supported value is "All"`);
    const validation = query.get('fieldValidation');
    if (validation !== null && !['Strict', 'Warn', 'Ignore', ''].includes(validation)) {
      throw badRequest(`fieldValidation parameter unsupported: ${validation}. Expected one of Ignore, Warn, Strict`);
    }
    const write = {
      version: r.version,
      subresource: r.subresource,
      fieldManager: query.get('fieldManager') ?? undefined,
      userAgent: req.headers['user-agent'],
      dryRun: dryRunParam === 'All',
      force: query.get('force') === 'true',
    };
    const contentType = req.headers['content-type'] ?? 'application/json';

    switch (r.verb) {
      case 'get': {
        if (r.subresource === 'log') {
          const pod = rest.get(type, namespace, r.name!, r.version);
          send(res, 200, this.options.podLog(pod), 'text/plain');
          return;
        }
        const obj = rest.get(type, namespace, r.name!, r.version, r.subresource);
        const negotiated = negotiate(req.headers.accept);
        if (negotiated.table && r.subresource === undefined) {
          send(res, 200, JSON.stringify(toTable(type, [obj], { include: includeObject(query), now: this.options.now() })), 'application/json;as=Table;v=v1;g=meta.k8s.io');
        } else if (negotiated.partial) {
          send(res, 200, JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }));
        } else {
          send(res, 200, toJson(obj));
        }
        return;
      }
      case 'list': {
        if (r.subresource !== undefined) throw notFoundPath();
        const limit = query.get('limit');
        const result = rest.list(type, namespace, { labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined, limit: limit ? Number(limit) : undefined, continue: query.get('continue') ?? undefined }, r.version);
        const negotiated = negotiate(req.headers.accept);
        if (negotiated.table) {
          const table = toTable(type, result.items, { resourceVersion: result.resourceVersion, continue: result.continue, remainingItemCount: result.remainingItemCount, include: includeObject(query), now: this.options.now() });
          send(res, 200, JSON.stringify(table), 'application/json;as=Table;v=v1;g=meta.k8s.io');
          return;
        }
        const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
        if (result.continue) metadata.continue = result.continue;
        if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
        if (negotiated.partial) {
          const items = result.items.map((obj) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }));
          send(res, 200, JSON.stringify({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items }));
          return;
        }
        const head = JSON.stringify({ kind: type.listKind, apiVersion: apiVersionOf(type, r.version), metadata });
        send(res, 200, `${head.slice(0, -1)},"items":[${result.items.map(toJson).join(',')}]}`);
        return;
      }
      case 'watch': {
        const fieldSelector = query.get('fieldSelector') ?? '';
        const fields = parseFieldSelector(r.name ? `metadata.name=${r.name}${fieldSelector ? `,${fieldSelector}` : ''}` : fieldSelector, type.fieldSelectors);
        const labels = parseLabelSelector(query.get('labelSelector') ?? '');
        const resourceVersion = query.get('resourceVersion') ?? undefined;
        if (resourceVersion && !/^\d+$/.test(resourceVersion)) throw badRequest(`resourceVersion: Invalid value: "${resourceVersion}": must be a non-negative integer`);
        const timeout = query.get('timeoutSeconds');
        const asTable = negotiate(req.headers.accept).table
          ? (obj: KubeObject, withColumns: boolean) => {
              const table = toTable(type, [obj], { include: includeObject(query), now: this.options.now() });
              return withColumns ? table : { ...table, columnDefinitions: [] };
            }
          : undefined;
        serveWatch(this.options.store, { type, version: r.version, namespace, labels, fields, resourceVersion, timeoutSeconds: timeout ? Number(timeout) : undefined, bookmarks: query.get('allowWatchBookmarks') === 'true', asTable }, res, () => undefined);
        return;
      }
      case 'create': {
        if (r.name !== undefined) throw methodNotAllowed();
        if (type.namespaced && namespace === undefined) throw notFoundPath();
        const body = parseBody(await readBody(req), contentType);
        send(res, write.dryRun ? 200 : 201, toJson(rest.create(type, namespace, body, write)));
        return;
      }
      case 'update': {
        const body = parseBody(await readBody(req), contentType);
        send(res, 200, toJson(rest.update(type, namespace, r.name!, body, write)));
        return;
      }
      case 'patch': {
        const raw = await readBody(req);
        const existed = contentType.startsWith('application/apply-patch') ? this.options.store.get(type, namespace, r.name!) !== undefined : true;
        const result = rest.patch(type, namespace, r.name!, contentType, raw, write);
        send(res, existed || write.dryRun ? 200 : 201, toJson(result));
        return;
      }
      case 'delete': {
        const options = await this.deleteOptions(req, query);
        const result = rest.delete(type, namespace, r.name!, { ...options, version: r.version });
        // A Success status answers 200 as a whole object would; 202 is for a deletion still in progress.
        const pending = result.kind !== 'Status' && (result as KubeObject).metadata.deletionTimestamp !== undefined;
        send(res, pending ? 202 : 200, toJson(result));
        return;
      }
      case 'deletecollection': {
        const options = await this.deleteOptions(req, query);
        const limit = query.get('limit');
        const result = rest.deleteCollection(type, namespace, { labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined, limit: limit ? Number(limit) : undefined }, { ...options, version: r.version });
        send(res, 200, JSON.stringify(result));
        return;
      }
      default: {
        const never: never = r.verb;
        throw new Error(`unhandled verb ${String(never)}`);
      }
    }
  }

  private serveOpenApi(res: ServerResponse, path: string): void {
    const { resources } = this.options;
    if (path === '/openapi/v3' || path === '/openapi/v3/') {
      send(res, 200, JSON.stringify(openApiIndex(resources)));
      return;
    }
    const match = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    const doc = match ? openApiGroupVersion(resources, match[2] ?? '', (match[1] ?? match[3])!) : undefined;
    if (!doc) {
      sendStatus(res, notFoundPath().toStatus());
      return;
    }
    send(res, 200, JSON.stringify(doc));
  }

  private hasSubresource(type: ResourceType, subresource: string): boolean {
    if (subresource === 'status') return type.hasStatus;
    if (subresource === 'scale') return type.scale !== undefined;
    if (subresource === 'log') return type.key === 'pods';
    return false;
  }

  private async deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
    const raw = await readBody(req);
    const body: Record<string, unknown> = raw.trim() === '' ? {} : (parseBody(raw, 'json') as Record<string, unknown>);
    let policy = (body.propagationPolicy ?? query.get('propagationPolicy') ?? undefined) as string | undefined;
    if ((body.orphanDependents ?? query.get('orphanDependents')) === true || query.get('orphanDependents') === 'true') policy = 'Orphan';
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    const dryRun = Array.isArray(body.dryRun) ? body.dryRun.includes('All') : query.get('dryRun') === 'All';
    const pre = typeof body.preconditions === 'object' && body.preconditions !== null ? (body.preconditions as { uid?: string; resourceVersion?: string }) : undefined;
    return { propagationPolicy: policy as DeleteOptions['propagationPolicy'], preconditions: pre, dryRun };
  }
}

function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}
