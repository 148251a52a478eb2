/**
 * Request bodies: JSON and YAML read by the one document reader of spec/, so a rollout file posted to the API is read
 * exactly as the CLI and the tests read it. Its refusals become 400s: invalid_json or invalid_yaml with the line and
 * column, or validation_failed for a value that cannot be stored.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readDocument } from '../spec/document.ts';
import { ApiError } from './problem.ts';

function readBody(text: string, format: 'json' | 'yaml'): unknown {
  if (text.trim() === '') return undefined;
  const result = readDocument(text, format);
  if (result.ok) return result.value;
  const [error] = result.errors;
  const message = error?.message ?? 'the body could not be read';
  if (result.kind === 'content') {
    throw new ApiError(400, 'validation_failed', `the request is invalid: ${error?.path || '/'} ${message}`, { errors: result.errors });
  }
  const place = error?.line !== undefined ? { line: error.line, column: error.column ?? 1 } : {};
  throw new ApiError(400, format === 'json' ? 'invalid_json' : 'invalid_yaml', `the body is not valid ${format.toUpperCase()}: ${message}`, place);
}

export function parseJsonBody(text: string): unknown {
  return readBody(text, 'json');
}

export function parseYamlBody(text: string): unknown {
  return readBody(text, 'yaml');
}

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** Replaces fastify's JSON parser (for messages with a place) and adds YAML, so rollout files can be posted as they are. */
export function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  for (const [types, format] of [[['application/json'], 'json'], [YAML_TYPES, 'yaml']] as const) {
    app.addContentTypeParser([...types], { parseAs: 'string' }, (_request: FastifyRequest, body: string | Buffer, done) => {
      try {
        done(null, readBody(body.toString(), format));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  }
}
