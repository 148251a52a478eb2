import { Type } from 'typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  ActiveRolloutExists,
  CommandNotApplicable,
  CommandTargetUnknown,
  DomainError,
  IdempotencyMismatch,
  RevisionStale,
  RolloutNotFound,
  SpecInvalid,
  UnknownCluster,
} from '../errors.ts';
import { UndoTargetMissing } from '../engine/undo.ts';

/** A problem only HTTP has (a malformed body, a missing token, a bad cursor): it carries its own status. */
export class ApiError extends DomainError {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, details);
  }
}

/** The one table from what happened to the HTTP status that says so. */
const DOMAIN_STATUS = new Map<abstract new (...args: never[]) => DomainError, number>([
  [RolloutNotFound, 404],
  [SpecInvalid, 422],
  [CommandNotApplicable, 409],
  [CommandTargetUnknown, 422],
  [ActiveRolloutExists, 409],
  [IdempotencyMismatch, 422],
  [RevisionStale, 412],
  [UnknownCluster, 422],
  [UndoTargetMissing, 422],
]);

/** The HTTP status an error is answered with, or undefined for one we did not foresee (a 500). */
export function problemStatus(error: unknown): number | undefined {
  if (error instanceof ApiError) return error.status;
  return error instanceof DomainError ? DOMAIN_STATUS.get(error.constructor as typeof DomainError) : undefined;
}

/** RFC 9457 problem details, the body of every error the API answers. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, $id: 'Problem' },
);

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `https://oleada.dev/problems/${code}`,
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      instance: request.url,
      code,
      requestId: String(request.id),
      ...extra,
    });
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  keyword?: string;
}

/** Ajv's errors rewritten as { path, message } that say which field is wrong and why. */
export function describeValidation(issues: ValidationIssue[], context: string | undefined): { path: string; message: string }[] {
  const where = context === 'body' ? '' : `${context ?? ''}`;
  return issues.map((issue) => {
    const base = `${where}${issue.instancePath ?? ''}` || '/';
    const params = issue.params ?? {};
    if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return { path: `${base === '/' ? '' : base}/${params.additionalProperty}`, message: 'is not an allowed field; remove it' };
    }
    if (issue.keyword === 'required' && typeof params.missingProperty === 'string') {
      return { path: `${base === '/' ? '' : base}/${params.missingProperty}`, message: 'is required' };
    }
    return { path: base, message: issue.message ?? 'is invalid' };
  });
}

/** Fastify's own 4xx errors, reworded to say what to do next. */
const FRAMEWORK_PROBLEMS: Record<string, { code: string; detail: (request: FastifyRequest, error: Error) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'body_too_large',
    detail: (request) => `the body is larger than this API accepts (${request.routeOptions.bodyLimit ?? 'the limit'} bytes); a rollout file is a few KiB`,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    detail: (request) =>
      `the Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted; send application/json (or application/yaml for a rollout file)`,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'invalid_content_length',
    detail: () => 'the Content-Length header does not match the body',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_json',
    detail: () => 'the body is empty but the Content-Type says JSON; send a JSON object or leave the Content-Type out',
  },
};

/** Maps any error to a problem+json answer; only errors we did not foresee become a 500, and those are logged whole. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const domainStatus = problemStatus(error);
  if (error instanceof DomainError && domainStatus !== undefined) {
    return sendProblem(request, reply, domainStatus, error.code, error.message, error.details);
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const errors = describeValidation(fastifyError.validation as ValidationIssue[], fastifyError.validationContext);
    const summary = errors.map((e) => `${e.path} ${e.message}`).join('; ');
    return sendProblem(request, reply, 400, 'validation_failed', `the request is invalid: ${summary}`, { errors });
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const known = fastifyError.code ? FRAMEWORK_PROBLEMS[fastifyError.code] : undefined;
    if (known) return sendProblem(request, reply, status, known.code, known.detail(request, error));
    const code = (fastifyError.code ?? 'bad_request').toLowerCase().replace(/^fst_err_/, '');
    return sendProblem(request, reply, status, code, error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(request, reply, 500, 'internal', 'an unexpected error happened; it has been logged with this request id');
}
