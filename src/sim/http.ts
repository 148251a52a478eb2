// One cluster's API server over HTTP(S): bearer-token authentication, RBAC authorization, injected faults, the write
// audit, and the translation of Kubernetes REST requests into RestApi calls, lists, tables and watches. node:http directly, not a
// framework: the hot path (GET of one object) is a lookup and a cached JSON string.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { preciseNow, type AuditLog } from './audit.ts';
import { ADMIN_USER, type UserInfo } from './auth/identity.ts';
import { forbiddenMessage, type Attributes, type RbacAuthorizer } from './auth/rbac.ts';
import type { AuthApi } from './auth/reviews.ts';
import type { TokenAuthenticator } from './auth/tokens.ts';
import { handleControl, type ControlTarget } from './control.ts';
import { coreVersions, group, groupList, resourceList, versionInfo } from './discovery.ts';
import { ApiError, forbidden, internalError, unauthorized } from './errors.ts';
import type { Faults } from './faults.ts';
import { notFoundPath, readBody, send, sendStatus } from './httpio.ts';
import type { KubeObject } from './objects.ts';
import { serveOpenApi } from './openapi.ts';
import { serveOpenApiV2 } from './openapi-v2.ts';
import { isWriteMethod, parseRequest, type ApiRequest } from './requestinfo.ts';
import type { ResourceRegistry } from './resources.ts';
import type { RestApi } from './rest.ts';
import type { ObjectStore } from './store.ts';
import type { TlsMaterial } from './tls.ts';
import { serveResource } from './verbs.ts';

export interface ApiServerOptions {
  cluster: string;
  authenticator: TokenAuthenticator;
  authorizer: RbacAuthorizer;
  auth: AuthApi;
  store: ObjectStore;
  resources: ResourceRegistry;
  rest: RestApi;
  faults: Faults;
  audit: AuditLog;
  control: ControlTarget;
  tls?: TlsMaterial;
  now: () => number;
  /** Serves `kubectl logs`: a few lines about the pod. */
  podLog: (pod: KubeObject, query: URLSearchParams) => string;
  evict: (namespace: string, name: string) => KubeObject;
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = preciseNow();
    const { path, queryString, query } = splitUrl(req.url ?? '/');
    const method = req.method ?? 'GET';
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      send(res, 200, 'ok', 'text/plain; charset=utf-8');
      return;
    }
    const parsed = path.startsWith('/_sim') ? undefined : parseRequest(method, path, query.get('watch') === 'true' || query.get('watch') === '1');
    if (isWriteMethod(method) && parsed) this.recordAudit(req, res, { arrived, method, path, queryString, query, parsed });
    const user = this.options.authenticator.authenticate(req.headers.authorization);
    if (!user) {
      sendStatus(res, unauthorized().toStatus());
      return;
    }
    if (!parsed) {
      // The control API is the simulation's, not the cluster's: only its own (admin) token reaches it.
      if (user === ADMIN_USER) await this.serveControl(req, res, method, path, query);
      else sendStatus(res, forbidden(`forbidden: User "${user.username}" cannot ${method.toLowerCase()} path "${path}"`).toStatus());
      return;
    }
    try {
      const attributes = attributesOf(method, path, parsed);
      if (!this.options.authorizer.allows(user, attributes)) throw forbidden(forbiddenMessage(user, attributes), attributes);
      await this.serveApi(req, res, path, parsed, user, query);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      sendStatus(res, err.toStatus());
    }
  }

  /** Records a write when it arrives; its status is filled in once the answer is sent. */
  private recordAudit(req: IncomingMessage, res: ServerResponse, at: { arrived: number; method: string; path: string; queryString: string; query: URLSearchParams; parsed: ApiRequest }): void {
    const { method, path, query, parsed } = at;
    const resource = parsed.kind === 'resource' ? parsed : undefined;
    const record = this.options.audit.add({
      time: at.arrived,
      verb: resource?.verb ?? method.toLowerCase(),
      method,
      path,
      query: at.queryString,
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
    res.on('finish', () => (record.status = res.statusCode));
    // A client that went away before the answer was sent gets nginx's 499 (client closed request), not a status never sent.
    res.on('close', () => (record.status = record.status || (res.writableFinished ? res.statusCode : 499)));
  }

  private async serveControl(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: URLSearchParams): Promise<void> {
    const body = isWriteMethod(method) ? await readBody(req) : '';
    const answer = await handleControl(this.options.control, method, path, query, body);
    send(res, answer.status, JSON.stringify(answer.body));
    if (answer.after) {
      const after = answer.after;
      res.on('finish', () => after().catch((err: unknown) => console.error(`kube-sim: ${this.options.cluster}: ${path} failed`, err)));
    }
  }

  /** The Kubernetes API itself, behind the injected faults. */
  private async serveApi(req: IncomingMessage, res: ServerResponse, path: string, parsed: ApiRequest, user: UserInfo, query: URLSearchParams): Promise<void> {
    const write = parsed.kind === 'resource' && isWriteMethod(req.method ?? 'GET');
    const gone = () => res.destroyed || res.socket === null || res.socket.destroyed;
    if (write) {
      const resource = parsed.group ? `${parsed.resource}.${parsed.group}` : parsed.resource;
      if (!(await this.options.faults.waitIfHeld(resource, gone, (listener) => res.once('close', listener)))) return;
    }
    const latency = this.options.faults.apiLatencyMs;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    // The injected latency stands for the network before the server: a write whose client went away meanwhile (a
    // killed process) never reached storage, and its audit entry says 499. Tests count such writes as not made.
    if (write && gone()) return;
    if (this.options.faults.shouldFail()) throw internalError('kube-sim injected fault (failFraction)');
    if (path === '/openapi/v2') {
      await serveOpenApiV2(req, res, this.options.resources);
      return;
    }
    if (path === '/openapi' || path.startsWith('/openapi/')) {
      await serveOpenApi(req, res, this.options.resources, path, query);
      return;
    }
    if (parsed.kind === 'resource') {
      await serveResource(this.options, req, res, parsed, user, query);
      return;
    }
    send(res, 200, JSON.stringify(this.discovery(parsed)));
  }

  private discovery(parsed: Exclude<ApiRequest, { kind: 'resource' }>): unknown {
    const { resources } = this.options;
    switch (parsed.kind) {
      case 'version':
        return versionInfo();
      case 'core-versions':
        return coreVersions(`127.0.0.1:${this.port}`);
      case 'groups':
        return groupList(resources);
      case 'group':
        return group(resources, parsed.group) ?? throwNotFound();
      case 'resources':
        return resourceList(resources, parsed.group, parsed.version) ?? throwNotFound();
      case 'unknown':
        return throwNotFound();
      default: {
        const never: never = parsed;
        throw new Error(`unhandled request ${JSON.stringify(never)}`);
      }
    }
  }
}

function splitUrl(rawUrl: string): { path: string; queryString: string; query: URLSearchParams } {
  const q = rawUrl.indexOf('?');
  const queryString = q < 0 ? '' : rawUrl.slice(q + 1);
  return { path: q < 0 ? rawUrl : rawUrl.slice(0, q), queryString, query: new URLSearchParams(queryString) };
}

/** What the authorizer is asked: the resource request as parsed, or the path with the method as its verb. */
function attributesOf(method: string, path: string, parsed: ApiRequest): Attributes {
  if (parsed.kind !== 'resource') return { kind: 'path', verb: method === 'HEAD' ? 'get' : method.toLowerCase(), path };
  const { verb, group, resource, subresource, name, namespace } = parsed;
  return { kind: 'resource', verb, group, resource, subresource, name, namespace };
}

function throwNotFound(): never {
  throw notFoundPath();
}
