// The HTTP plumbing under the API server: reading bodies with a size limit, answering JSON (each stored object
// serialised at most once), Status answers, and the Accept negotiation kubectl relies on (Table, metadata only).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, type Status } from './errors.ts';
import type { IncludeObject } from './tables.ts';

const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Stored objects never change, so each one is serialised at most once. */
const jsonCache = new WeakMap<object, string>();

export function toJson(obj: object): string {
  let json = jsonCache.get(obj);
  if (json === undefined) {
    json = JSON.stringify(obj);
    jsonCache.set(obj, json);
  }
  return json;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRawBody(req)).toString('utf8');
}

/** The body as bytes: protobuf bodies are binary. */
export function readRawBody(req: IncomingMessage): Promise<Buffer> {
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
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  send(res, status.code, JSON.stringify(status));
}

export interface Negotiated {
  table: boolean;
  partial: boolean;
}

/** Reads the first acceptable media type: kubectl asks for a Table first and plain JSON as a fallback. */
export function negotiate(accept: string | undefined): Negotiated {
  const first = (accept ?? '').split(',')[0] ?? '';
  return { table: /as=Table/i.test(first), partial: /as=PartialObjectMetadata/i.test(first) };
}

export function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

export function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}
